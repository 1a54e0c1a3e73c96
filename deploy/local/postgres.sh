#!/usr/bin/env bash
# PostgreSQL from Debian's packages, a private cluster on loopback with the project's data directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

provision() {
  [ -n "$(pg_bin_dir)" ] || apt_install postgresql
  [ -n "$(pg_bin_dir)" ] || die "postgresql binaries not found after install"
}

# PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' user. When the clone lies
# somewhere that user cannot reach, the data moves to a per-clone folder under /var/tmp.
data_dir() {
  local preferred="$STACK_DIR/postgres"
  if [ "$(id -u)" != 0 ]; then echo "$preferred"; return; fi
  mkdir -p "$STACK_DIR"
  if runuser -u postgres -- test -x "$STACK_DIR"; then echo "$preferred"; else
    echo "/var/tmp/sps-postgres-$(echo "$REPO_ROOT" | md5sum | cut -c1-8)"; fi
}

as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  if port_open "$PG_PORT"; then log "postgres already up on 127.0.0.1:$PG_PORT"; return 0; fi
  provision
  local bin; bin=$(pg_bin_dir)
  local dir; dir=$(data_dir)
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "initialising postgres cluster in $dir"
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    local pwfile; pwfile=$(mktemp); echo "$PG_PASSWORD" >"$pwfile"; chmod 644 "$pwfile"
    as_owner "$bin/initdb" -D "$dir" -U "$PG_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pwfile"
  fi
  log "starting postgres on 127.0.0.1:$PG_PORT"
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-p $PG_PORT -h 127.0.0.1 -k /tmp -c max_connections=200 -c fsync=off -c synchronous_commit=off" start >/dev/null
  wait_for_port "$PG_PORT" 60 postgres
  PGPASSWORD="$PG_PASSWORD" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 ||
    PGPASSWORD="$PG_PASSWORD" "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE $PG_DB" >/dev/null
}

stop() {
  local dir; dir=$(data_dir)
  [ -f "$dir/postmaster.pid" ] || return 0
  log "stopping postgres"
  as_owner "$(pg_bin_dir)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null || true
}

reset() { stop; rm -rf "$(data_dir)"; }

"${1:-start}"
