#!/usr/bin/env bash
# Makes sure a Chromium for the e2e tests exists: CHROMIUM_PATH if set, else Debian's
# /usr/bin/chromium, installed with apt-get when we are root. Otherwise one clear line.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$path" ]; then exit 0; fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable; point it at a Chromium or Chrome binary." >&2
  exit 1
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "meshdrop tests: installing Debian's chromium (one time)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
  [ -x /usr/bin/chromium ] && exit 0
fi
echo "No Chromium found: run 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH to a Chromium binary), then npm test again." >&2
exit 1
