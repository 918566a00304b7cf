#!/usr/bin/env bash
# Headless Chromium for the consumer page's browser tests and its benchmark: Debian's `chromium`
# package, driven by playwright-core (Playwright's own browser downloads are not used: they
# fetch a browser build from outside the package registries). Installed when missing, as
# scripts/kafka.sh assembles Kafka.
#
#   scripts/chromium.sh ensure   install it when missing (apt-get, as root), then print its path
#   scripts/chromium.sh path     print its path
#
# Environment: CHROMIUM_PATH (/usr/bin/chromium), a Chromium or Chrome binary to use instead.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

log() { printf '[chromium] %s\n' "$*" >&2; }

case "${1:-ensure}" in
  ensure)
    if [ ! -x "$CHROMIUM" ]; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing Debian's chromium package (apt-get)"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
      else
        log "error: no Chromium at $CHROMIUM. Install it (Debian/Ubuntu: sudo apt-get install chromium)," \
          "or set CHROMIUM_PATH to a Chromium or Chrome binary"
        exit 1
      fi
      [ -x "$CHROMIUM" ] || { log "error: apt-get installed chromium, but there is no $CHROMIUM"; exit 1; }
    fi
    echo "$CHROMIUM"
    ;;
  path) echo "$CHROMIUM" ;;
  *)
    echo "usage: $0 ensure|path" >&2
    exit 2
    ;;
esac
