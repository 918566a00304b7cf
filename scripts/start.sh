#!/usr/bin/env bash
# `npm start`: everything a fresh machine needs to serve Custodian, then serves it.
#   1. Node dependencies (npm ci when missing), a build of src/ and migrations/.
#   2. Kafka: KAFKA_BROKERS when set, else the local KRaft broker (scripts/kafka.sh).
#   3. PostgreSQL: DATABASE_URL when set, else embedded PostgreSQL (scripts/postgres.mjs).
#   4. The application creates the database if missing, migrates, creates the ledger topic,
#      and prints where it serves. Ctrl-C or SIGTERM stops it gracefully; the broker and the
#      database keep running for the next start (`npm run services:stop` stops them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run

# A first start has no API keys: create one operator key so the API can be tried at once.
keys_file="${API_KEYS_FILE:-${CUSTODIAN_DATA_DIR:-.data}/api-keys.json}"
if [ ! -e "$keys_file" ]; then
  say "first start: creating an operator key for the demo party 4012345000009 (npm run api-key for more)"
  node dist/src/tools/api-key.js --name demo-operator --role operator --party 4012345000009 --file "$keys_file"
fi

# Checkpoints go to a witness: WITNESS_DIR or WITNESS_URL when set, else a directory in the data
# directory (a stand-in: a real witness is kept by another party, docs/attestation-format.md §5).
if [ -z "${WITNESS_DIR:-}" ] && [ -z "${WITNESS_URL:-}" ]; then export WITNESS_DIR="${CUSTODIAN_DATA_DIR:-.data}/witness"; fi

say "starting Custodian (Kafka $KAFKA_BROKERS)"
# Its heap is bounded (CUSTODIAN_HEAP_MB, docs/PERFORMANCE.md#rss-load): left alone, V8 lets a busy
# process's heap grow toward about 4 GB before it collects hard. No allocation-site pretenuring:
# V8 had objects of sites that survived under load made in the old generation from then on, and
# attestations at rest then ran into its collector (docs/PERFORMANCE.md#attestation-10m).
exec node --max-old-space-size="${CUSTODIAN_HEAP_MB:-640}" --no-allocation-site-pretenuring --enable-source-maps dist/src/main.js
