#!/usr/bin/env bash
# `npm run start:cluster`: three Custodian instances of one ledger on this machine, for trying
# failover (docs/scaling.md). Same provisioning as `npm start`; then instances on HTTP ports
# 3000, 3001, 3002 (forwarded writes on 4000, 4001, 4002), sharing the data directory (the
# ledger's checkpoint key), the broker and the database. Kafka's group places the ledger's
# writer in one of them; kill that one (its pid is printed) and another takes over.
# CLUSTER_INSTANCES sets how many; Ctrl-C stops them all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare_to_run

keys_file="${API_KEYS_FILE:-${CUSTODIAN_DATA_DIR:-.data}/api-keys.json}"
if [ ! -e "$keys_file" ]; then
  say "first start: creating an operator key for the demo party 4012345000009 (npm run api-key for more)"
  node dist/src/tools/api-key.js --name demo-operator --role operator --party 4012345000009 --file "$keys_file"
fi
if [ -z "${WITNESS_DIR:-}" ] && [ -z "${WITNESS_URL:-}" ]; then export WITNESS_DIR="${CUSTODIAN_DATA_DIR:-.data}/witness"; fi

instances="${CLUSTER_INSTANCES:-3}"
base="${PORT:-3000}"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop_all INT TERM
for ((i = 0; i < instances; i++)); do
  port=$((base + i))
  PORT=$port CLUSTER_PORT=$((port + 1000)) CLUSTER_ENABLED=true node --max-old-space-size="${CUSTODIAN_HEAP_MB:-640}" --no-allocation-site-pretenuring --enable-source-maps dist/src/main.js &
  pids+=($!)
  say "instance $i (pid $!): http://127.0.0.1:$port, forwarded writes on $((port + 1000))"
done
say "three instances of one ledger: GET /health/ready on each says which partitions it writes ('cluster.writes')"
wait
