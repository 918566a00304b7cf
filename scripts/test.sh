#!/usr/bin/env bash
# `npm test`: every check and every test, on a real Kafka broker and a real PostgreSQL.
# Static checks first (types, lint, formatting), then jest's projects: unit (no I/O),
# integration, e2e and reliability (faults, load, hostile input: docs/RELIABILITY.md). jest's
# global setup provisions the broker and a throwaway database (test/support/test-stack.mjs);
# arguments are passed on to jest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started=$SECONDS
ensure_tools
ensure_dependencies
ensure_chromium
say "typecheck"
npm run -s typecheck
say "lint"
npm run -s lint
say "format"
npm run -s format:check
if [ "$#" -eq 0 ]; then
  # Most tests wait on Kafka and PostgreSQL more than they compute: two workers for unit,
  # integration and e2e; the reliability tests (load, faults, kills) one at a time after them.
  say "tests: unit, integration and e2e (two workers)"
  KAFKAJS_NO_PARTITIONER_WARNING=1 npm run -s jest -- --selectProjects unit integration e2e --maxWorkers=2
  say "tests: reliability (one at a time)"
  KAFKAJS_NO_PARTITIONER_WARNING=1 npm run -s jest -- --selectProjects reliability --maxWorkers=1
else
  say "tests (jest $*)"
  KAFKAJS_NO_PARTITIONER_WARNING=1 npm run -s jest -- "$@"
fi
say "all checks and tests passed in $((SECONDS - started))s"
