#!/usr/bin/env bash
# The browser tests need Debian's Chromium; Playwright's own browser download
# cannot work on these machines. Install it when we can (root), else say how.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
else
  echo "[setup] Chromium is missing: run 'sudo apt-get install chromium' (or set PIXELPRESS_CHROMIUM)" >&2
  exit 1
fi
