#!/usr/bin/env bash
# tests/browser/test_deploy_nginx.py runs docs/deploy.md's nginx block with a
# real nginx (Debian's nginx-light; installed only, never started as a
# service). Without it that one test skips, so a failure here is not fatal.
set -uo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian's nginx-light (for the deploy template's test)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq nginx-light >/dev/null 2>&1 || { apt-get update -qq && { apt-get install -y -qq nginx-light || apt-get install -y -qq nginx; } >/dev/null; } \
    || echo "[setup] nginx could not be installed: tests/browser/test_deploy_nginx.py will skip" >&2
  # Debian's package may start its service; the tests start their own nginx.
  if command -v service >/dev/null 2>&1; then service nginx stop >/dev/null 2>&1 || true; fi
else
  echo "[setup] nginx is missing (apt-get install nginx-light): tests/browser/test_deploy_nginx.py will skip" >&2
fi
exit 0
