# Shared settings of the local stack. Sourced by the other scripts; every value can be overridden.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK_DIR="${SPS_STACK_DIR:-$REPO_ROOT/.stack}"
# Provisioned binaries are cached outside the clone so that a second clone on the same machine starts fast.
SPS_CACHE_DIR="${SPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sps}"
KAFKA_VERSION="4.1.1"
KAFKA_PORT="${SPS_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${SPS_KAFKA_CONTROLLER_PORT:-19093}"
PG_PORT="${SPS_PG_PORT:-15432}"
REDIS_PORT="${SPS_REDIS_PORT:-16379}"
PG_USER="sps"
PG_PASSWORD="sps"
PG_DB="sps"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# wait_for_port PORT SECONDS NAME
wait_for_port() {
  local port=$1 seconds=$2 name=$3 i
  for ((i = 0; i < seconds * 5; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  die "$name did not open 127.0.0.1:$port within ${seconds}s (logs under $STACK_DIR)"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  log "installing $* from Debian packages"
  if [ ! -f "$SPS_CACHE_DIR/.apt-updated" ]; then
    apt-get update -qq >&2 && mkdir -p "$SPS_CACHE_DIR" && touch "$SPS_CACHE_DIR/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}
