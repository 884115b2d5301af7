#!/usr/bin/env bash
# ensure-tool.sh COMMAND PACKAGE WHAT: makes sure COMMAND exists for the e2e tests, installing
# Debian's PACKAGE with apt-get when it is missing and we are root. Never fails the run: without
# it the tests that need it (WHAT) skip themselves with a clear message.
set -uo pipefail
command="$1" package="$2" what="$3"
if command -v "$command" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "meshdrop tests: installing Debian's $package (one time)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$package" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$package" >/dev/null; }
  command -v "$command" >/dev/null 2>&1 && exit 0
fi
echo "meshdrop tests: no $command found and cannot install it; $what will be skipped. Run 'sudo apt-get install -y $package' to run them." >&2
exit 0
