#!/usr/bin/env bash
# Makes sure Debian's `redis-server` exists for the tests of relay instances joined through Redis
# (tests/e2e/redis.spec.ts, tests/unit/relay-redis.test.ts, npm run bench:relay); see ensure-tool.sh.
exec bash "$(dirname "$0")/ensure-tool.sh" redis-server redis-server 'the Redis relay tests'
