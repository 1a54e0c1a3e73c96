#!/usr/bin/env bash
# The Python clients that e2e/openai-compatible.int.test.ts points at /v1/chat/completions: the
# official `openai` package and Instructor (with Pydantic), from PyPI, in a virtualenv under the
# shared cache (outside the work tree, like scripts/schemathesis.sh). Installs once and prints the
# absolute path of the venv's `python` on stdout (everything else goes to stderr), e.g.
#   SPS_PYTHON_CLIENTS="$(bash scripts/python-clients.sh)"; export SPS_PYTHON_CLIENTS
# Idempotent: once the pinned versions are installed, a run only prints the path.
set -euo pipefail
CACHE_DIR="${SPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sps}"
VENV="$CACHE_DIR/python-clients-venv"
read -r -a SPECS <<<"${SPS_PYTHON_CLIENTS_SPECS:-openai==3.3.0 instructor==1.17.0 pydantic==2.14.4}"
# The marker names the specs, so changing a pin reinstalls.
MARKER="$VENV/.complete-$(printf '%s_' "${SPECS[@]}" | tr -c 'A-Za-z0-9._=-' '_')"

log() { printf '[python-clients] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [ ! -f "$MARKER" ] || [ ! -x "$VENV/bin/python" ]; then
  PYTHON="$(command -v python3 || command -v python || true)"
  [ -n "$PYTHON" ] || die "python3 not found: it is needed to install ${SPECS[*]} from PyPI"
  mkdir -p "$CACHE_DIR"
  # One installer at a time (npm test and a lone vitest run may both get here).
  exec 9>"$CACHE_DIR/.python-clients-venv.lock"
  flock 9 2>/dev/null || true
  if [ ! -f "$MARKER" ] || [ ! -x "$VENV/bin/python" ]; then
    log "installing ${SPECS[*]} into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" >&2 || die "could not create a virtualenv at $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${SPECS[@]}" >&2 ||
      die "pip could not install ${SPECS[*]}"
    rm -f "$VENV"/.complete-*
    touch "$MARKER"
    log "installed $("$VENV/bin/python" -c 'import openai, instructor, pydantic; print(f"openai {openai.__version__}, instructor {instructor.__version__}, pydantic {pydantic.VERSION}")' 2>/dev/null || echo "${SPECS[*]}")"
  fi
fi
printf '%s\n' "$VENV/bin/python"
