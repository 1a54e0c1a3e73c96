#!/usr/bin/env bash
# Redis from Debian's packages, on loopback, persisting under the stack folder.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

REDIS_DATA="$STACK_DIR/redis"

start() {
  if port_open "$REDIS_PORT"; then log "redis already up on 127.0.0.1:$REDIS_PORT"; return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$REDIS_DATA"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DATA" --daemonize yes \
    --pidfile "$REDIS_DATA/redis.pid" --logfile "$REDIS_DATA/redis.log" --save "" --appendonly no >/dev/null
  wait_for_port "$REDIS_PORT" 30 redis
}

stop() {
  [ -f "$REDIS_DATA/redis.pid" ] || return 0
  log "stopping redis"
  kill -TERM "$(cat "$REDIS_DATA/redis.pid")" 2>/dev/null || true
  for _ in $(seq 1 50); do port_open "$REDIS_PORT" || break; sleep 0.1; done
  rm -f "$REDIS_DATA/redis.pid"
}

"${1:-start}"
