#!/usr/bin/env bash
# The local stack without Docker: Kafka (KRaft), PostgreSQL and Redis on loopback.
#   deploy/local/stack.sh start|stop|reset|env
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/env.sh"

start() {
  mkdir -p "$STACK_DIR"
  bash "$HERE/postgres.sh" start
  bash "$HERE/redis.sh" start
  bash "$HERE/kafka.sh" start
  env_vars
}

stop() {
  bash "$HERE/kafka.sh" stop
  bash "$HERE/redis.sh" stop
  bash "$HERE/postgres.sh" stop
}

reset() {
  stop
  bash "$HERE/postgres.sh" reset
  rm -rf "$STACK_DIR"
  log "stack data removed"
}

# The endpoints, in the variables that libs/config and libs/testing read.
env_vars() {
  cat <<VARS
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
VARS
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  reset) reset ;;
  env) env_vars ;;
  *) die "usage: $0 start|stop|reset|env" ;;
esac
