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
say "tests (unit, integration, e2e, reliability)"
KAFKAJS_NO_PARTITIONER_WARNING=1 npm run -s jest -- "$@"
say "all checks and tests passed in $((SECONDS - started))s"
