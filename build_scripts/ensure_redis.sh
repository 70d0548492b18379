#!/usr/bin/env bash
# The server tests start their own redis-server (the shared rate limit across
# instances); it comes from Debian's packages. Install it when we can (root), else say how.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup] installing Debian's redis-server (the tests start their own on a free port)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
else
  echo "[setup] redis-server is missing: run 'sudo apt-get install redis-server'" >&2
  exit 1
fi
