#!/usr/bin/env bash
# `npm run ledger:copy -- --to <new topic>`: copies the verified chain of the ledger topic that
# `npm start` uses (or KAFKA_BROKERS / DATABASE_URL / LEDGER_TOPIC) into a new topic, up to the
# first break (docs/RELIABILITY.md, "A ledger that no longer verifies").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run
exec node --enable-source-maps dist/src/tools/ledger-copy.js "$@"
