#!/usr/bin/env bash
# `npm run audit [-- --out report.json]`: a full audit of the ledger against the same Kafka,
# PostgreSQL and witness that `npm start` uses (or KAFKA_BROKERS / DATABASE_URL / WITNESS_DIR /
# WITNESS_URL): progress and a summary on stderr, the JSON report on stdout or in --out.
# Exit status 0: verified; 1: tampered or incomplete; 2: could not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run
if [ -z "${WITNESS_DIR:-}" ] && [ -z "${WITNESS_URL:-}" ]; then export WITNESS_DIR="${CUSTODIAN_DATA_DIR:-.data}/witness"; fi
exec node --enable-source-maps dist/src/tools/audit.js "$@"
