#!/usr/bin/env bash
# The cross-browser tests (tests/browser/test_every_browser.py) drive two more
# engines, both Debian packages: Firefox ESR (over WebDriver BiDi, with
# puppeteer-core from npm: no geckodriver) and WebKitGTK, Safari's engine
# (WebKitWebDriver with its MiniBrowser, which needs a display: Xvfb).
# Install them when we can (root), else say how; idempotent.
set -euo pipefail
missing=()
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xauth >/dev/null 2>&1 || missing+=(xauth)
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian's ${missing[*]} (Firefox and WebKit for the cross-browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
else
  echo "[setup] missing ${missing[*]}: run 'sudo apt-get install ${missing[*]}'" >&2
  echo "[setup] (without them tests/browser/test_every_browser.py fails for Firefox and WebKit)" >&2
  exit 1
fi
