# Shared by the scripts of the npm commands (start, test, projection:rebuild, audit): make sure this machine can build and run
# Custodian. Installs only what is missing; safe to run again.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m[custodian]\033[0m %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

ensure_tools() {
  command -v node >/dev/null || fail "Node.js >= 20.19 is needed (https://nodejs.org)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || fail "Node.js >= 20.19 is needed (found $(node --version)): NestJS 12 and @noble are ES modules"
  if [ -z "${KAFKA_BROKERS:-}" ]; then
    command -v java >/dev/null || fail "Java 17+ is needed for the local Kafka broker (or set KAFKA_BROKERS)"
    command -v mvn >/dev/null || fail "Maven is needed to assemble the local Kafka broker (or set KAFKA_BROKERS)"
  fi
}

# npm ci when node_modules is missing or older than the lockfile.
ensure_dependencies() {
  local stamp="$ROOT/node_modules/.custodian-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/package-lock.json" "$stamp"; then
    say "installing npm dependencies (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/package-lock.json" "$stamp"
  fi
}

# Headless Chromium for the consumer page's browser tests and benchmark (scripts/chromium.sh):
# installed when missing; exports CHROMIUM_PATH.
ensure_chromium() {
  CHROMIUM_PATH="$(bash "$ROOT/scripts/chromium.sh" ensure)"
  export CHROMIUM_PATH
}

# Kafka and PostgreSQL for the application: KAFKA_BROKERS and DATABASE_URL when set, else the
# local broker (scripts/kafka.sh) and embedded PostgreSQL (scripts/postgres.mjs); exports both.
ensure_services() {
  if [ -z "${KAFKA_BROKERS:-}" ]; then
    bash "$ROOT/scripts/kafka.sh" start
    KAFKA_BROKERS="$(bash "$ROOT/scripts/kafka.sh" brokers)"
    export KAFKA_BROKERS
  fi
  if [ -z "${DATABASE_URL:-}" ]; then
    local server_url
    server_url="$(node "$ROOT/scripts/postgres.mjs" start)"
    export DATABASE_URL="${server_url%/postgres}/custodian"
  fi
}

# Everything a command that runs the built application needs: tools, dependencies, a build
# of the current sources (compiled only when they changed since the last one: scripts/build.mjs),
# Kafka and PostgreSQL.
prepare_to_run() {
  ensure_tools
  ensure_dependencies
  node "$ROOT/scripts/build.mjs" tsconfig.build.json
  ensure_services
}
