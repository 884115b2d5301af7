#!/usr/bin/env bash
# Makes sure ffmpeg exists for the media e2e test (tests/e2e/media.spec.ts), which makes its
# video at setup: installed with apt-get (Debian's `ffmpeg`) when missing and we are root.
# Never fails the run: without it the media test skips itself with a clear message.
set -uo pipefail
if command -v ffmpeg >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "meshdrop tests: installing Debian's ffmpeg (one time)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq ffmpeg >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq ffmpeg >/dev/null; }
  command -v ffmpeg >/dev/null 2>&1 && exit 0
fi
echo "meshdrop tests: no ffmpeg found and cannot install it; the media test will be skipped. Run 'sudo apt-get install -y ffmpeg' to run it." >&2
exit 0
