#!/usr/bin/env bash
# `npm run projection:rebuild`: empties the read models and replays the whole ledger into them,
# against the same Kafka and PostgreSQL that `npm start` uses (or KAFKA_BROKERS / DATABASE_URL).
# Stop the application first, or run it with PROJECTOR_ENABLED=false: two projectors would
# both write the read models (the second one's batches are refused, not duplicated).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run
exec node --enable-source-maps dist/src/tools/projector.js --rebuild
