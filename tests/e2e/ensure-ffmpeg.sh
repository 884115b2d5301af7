#!/usr/bin/env bash
# Makes sure ffmpeg exists for the media e2e test (tests/e2e/media.spec.ts makes its videos with it); see ensure-tool.sh.
exec bash "$(dirname "$0")/ensure-tool.sh" ffmpeg ffmpeg 'the media tests'
