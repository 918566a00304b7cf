#!/usr/bin/env bash
# Local Apache Kafka for development and tests: one KRaft node (broker + controller) on
# 127.0.0.1, assembled from Maven Central jars and started with `java`. No Docker.
#
#   scripts/kafka.sh start    assemble (once), format (once), start, wait until it serves
#   scripts/kafka.sh stop     controlled shutdown (SIGTERM, then SIGKILL after 60 s)
#   scripts/kafka.sh status   exit 0 when running
#   scripts/kafka.sh brokers  print the bootstrap address
#
# With KAFKA_BROKERS set, nothing is assembled or started: that cluster is used.
# Environment: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_HEAP (512m),
# CUSTODIAN_DATA_DIR (<repo>/.data), CUSTODIAN_CACHE_DIR (~/.cache/custodian).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")"
PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
HEAP="${KAFKA_HEAP:-512m}"
DATA_DIR="${CUSTODIAN_DATA_DIR:-$ROOT/.data}/kafka-$PORT"
CACHE_DIR="${CUSTODIAN_CACHE_DIR:-$HOME/.cache/custodian}"
LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
PID_FILE="$DATA_DIR/kafka.pid"
LOG_FILE="$DATA_DIR/server.log"

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

assemble() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is needed to assemble Kafka from Maven Central"
  log "assembling Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS"
  rm -rf "$LIBS.partial"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS.partial" >&2
  rm -rf "$LIBS"
  mv "$LIBS.partial" "$LIBS"
  touch "$LIBS/.complete"
}

write_config() {
  mkdir -p "$DATA_DIR/logs"
  cat > "$DATA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR/logs
# One node: internal topics must not ask for replicas that cannot exist, or transactions
# and consumer groups hang. One partition each keeps the first group join fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
# Several instances (docs/scaling.md): a killed instance's writers move after its session
# timeout (CLUSTER_SESSION_TIMEOUT_MS, 3 s); Kafka's default floor is 6 s.
group.min.session.timeout.ms=1000
default.replication.factor=1
min.insync.replicas=1
num.partitions=1
# Topics are created by Custodian with the configuration a ledger needs, never implicitly.
auto.create.topics.enable=false
PROPS
  cat > "$DATA_DIR/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOG_FILE
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
}

JAVA_ARGS=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  -Dlog4j.configuration="file:$DATA_DIR/log4j.properties" -cp "$LIBS/*")
java_cmd() { java "${JAVA_ARGS[@]}" "$@"; }

format_storage() {
  [ -f "$DATA_DIR/logs/meta.properties" ] && return 0
  local cluster_id
  cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)"
  log "formatting storage in $DATA_DIR/logs (cluster id $cluster_id)"
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$DATA_DIR/server.properties" >/dev/null
}

wait_until_serving() {
  # Serving means a topic can be created and a record written with acks=all, through the
  # same client library the application uses (kafkajs).
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  while [ $SECONDS -lt $deadline ]; do
    # The pid alone, not running_pid: just after the start, setsid may not have exec'd the
    # JVM yet, and its command line does not name kafka.Kafka until it has.
    if ! kill -0 "$(cat "$PID_FILE" 2>/dev/null)" 2>/dev/null; then
      tail -n 30 "$LOG_FILE" >&2 || true
      die "broker exited during start; see $LOG_FILE"
    fi
    if node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$PORT" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  die "broker did not serve within ${KAFKA_START_TIMEOUT:-90}s; see $LOG_FILE"
}

start() {
  if [ -n "${KAFKA_BROKERS:-}" ]; then
    log "KAFKA_BROKERS is set ($KAFKA_BROKERS): using that cluster, starting nothing"
    return 0
  fi
  local pid
  if pid="$(running_pid)"; then
    log "reusing the running broker (pid $pid) on 127.0.0.1:$PORT"
    wait_until_serving
    return 0
  fi
  # A broker another checkout (or a developer) started on this port: use it rather than fail to
  # bind the port. It is not ours to stop: `stop` and `status` only look at this checkout's own.
  if port_in_use && node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$PORT" 2>/dev/null; then
    log "a Kafka broker not started from this checkout serves on 127.0.0.1:$PORT: using it"
    return 0
  fi
  command -v java >/dev/null || die "Java 17+ is needed to run Kafka"
  local t0=$SECONDS
  assemble
  write_config
  format_storage
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (heap $HEAP, log $LOG_FILE)"
  # setsid: the broker outlives this shell and is not hit by the terminal's Ctrl-C. A
  # background job of a non-interactive shell is no group leader, so setsid execs in place
  # and $! is the JVM's pid.
  setsid java "${JAVA_ARGS[@]}" kafka.Kafka "$DATA_DIR/server.properties" \
    >>"$DATA_DIR/stdout.log" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  wait_until_serving
  log "serving on 127.0.0.1:$PORT after $((SECONDS - t0))s (pid $(cat "$PID_FILE"))"
}

stop() {
  [ -n "${KAFKA_BROKERS:-}" ] && { log "KAFKA_BROKERS is set: nothing to stop"; return 0; }
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped"; return 0; }
    sleep 0.5
  done
  log "broker did not stop within 60s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if pid="$(running_pid)"; then echo "running (pid $pid) on 127.0.0.1:$PORT"; else echo "stopped"; exit 1; fi ;;
  brokers) echo "${KAFKA_BROKERS:-127.0.0.1:$PORT}" ;;
  *) echo "usage: $0 start|stop|status|brokers" >&2; exit 2 ;;
esac
