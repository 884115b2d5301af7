#!/usr/bin/env bash
# Makes sure coturn's `turnserver` exists for the TURN e2e test (tests/e2e/turn.spec.ts); see ensure-tool.sh.
exec bash "$(dirname "$0")/ensure-tool.sh" turnserver coturn 'the TURN tests'
