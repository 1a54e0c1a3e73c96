#!/usr/bin/env bash
# Schemathesis (the OpenAPI fuzzer that e2e/contract-fuzz.int.test.ts runs against the ingest API),
# from PyPI, in a virtualenv under the shared cache (outside the work tree, like bench/setup.sh's
# LiteLLM). Installs once and prints the absolute path of the `schemathesis` executable on stdout
# (everything else goes to stderr), e.g.
#   SCHEMATHESIS="$(bash scripts/schemathesis.sh)"; export SCHEMATHESIS
# Idempotent: once the pinned version is installed, a run only prints the path.
set -euo pipefail
CACHE_DIR="${SPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sps}"
VENV="$CACHE_DIR/schemathesis-venv"
SPEC="${SPS_SCHEMATHESIS_SPEC:-schemathesis==4.32.*}"
# The marker names the spec, so changing the pin reinstalls; '*' is not welcome in a file name.
MARKER="$VENV/.complete-${SPEC//\*/x}"

log() { printf '[schemathesis] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ ! -f "$MARKER" ] || [ ! -x "$VENV/bin/schemathesis" ]; then
  PYTHON="$(command -v python3 || command -v python || true)"
  [ -n "$PYTHON" ] || die "python3 not found: it is needed to install $SPEC from PyPI"
  mkdir -p "$CACHE_DIR"
  # One installer at a time (npm test and a lone vitest run may both get here).
  exec 9>"$CACHE_DIR/.schemathesis-venv.lock"
  flock 9 2>/dev/null || true
  if [ ! -f "$MARKER" ] || [ ! -x "$VENV/bin/schemathesis" ]; then
    log "installing $SPEC into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" >&2 || die "could not create a virtualenv at $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$SPEC" >&2 ||
      die "pip could not install $SPEC"
    rm -f "$VENV"/.complete-*
    touch "$MARKER"
    log "installed $("$VENV/bin/schemathesis" --version 2>/dev/null || echo "$SPEC")"
  fi
fi
printf '%s\n' "$VENV/bin/schemathesis"
