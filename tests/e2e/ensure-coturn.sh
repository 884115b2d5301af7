#!/usr/bin/env bash
# Makes sure coturn's `turnserver` exists for the TURN e2e test (tests/e2e/turn.spec.ts):
# installed with apt-get (Debian's `coturn`) when missing and we are root. Never fails the
# run: without it the TURN tests skip themselves with a clear message.
set -uo pipefail
if command -v turnserver >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "meshdrop tests: installing Debian's coturn (one time)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq coturn >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq coturn >/dev/null; }
  command -v turnserver >/dev/null 2>&1 && exit 0
fi
echo "meshdrop tests: no coturn (turnserver) found and cannot install it; the TURN tests will be skipped. Run 'sudo apt-get install -y coturn' to run them." >&2
exit 0
