#!/usr/bin/env bash
# `npm run bench [-- --only http,attestation] [--quick]`: every benchmark in one run against the
# same local Kafka broker and embedded PostgreSQL the tests use (or KAFKA_BROKERS / DATABASE_URL),
# written to docs/BENCHMARKS.md and docs/benchmarks.json (bench/run.ts). A full run takes about
# 10 minutes on 2 cores, most of it writing and projecting 1M custody events; --quick runs
# everything small in about a minute and writes to .data/bench/ instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run
ensure_chromium # the page benchmark measures the consumer page in headless Chromium
npm run -s build:tools # the benchmarks, when their sources changed
KAFKAJS_NO_PARTITIONER_WARNING=1 exec node --enable-source-maps dist/bench/run.js "$@"
