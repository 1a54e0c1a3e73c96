#!/usr/bin/env bash
# Installs what the benchmarks need besides the repo's own dependencies, idempotently:
#  - bench/.tools: autocannon (the load generator) and @portkey-ai/gateway, from npm (bench/.tools/package.json)
#  - LiteLLM's proxy, from PyPI, in a virtualenv under ~/.cache/sps/bench (outside the work tree: the
#    repo's `eslint .` would otherwise lint the JavaScript files that LiteLLM's wheel ships)
# A peer that cannot be installed is reported and skipped; the benchmarks then run without it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
CACHE_DIR="${SPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sps}"
VENV="$CACHE_DIR/bench/litellm-venv"
# litellm 1.108.x and later need packages this registry does not serve (see bench/README.md)
LITELLM_SPEC="${BENCH_LITELLM_SPEC:-litellm[proxy]==1.106.12}"

if [ ! -f .tools/node_modules/.package-lock.json ] || [ .tools/package.json -nt .tools/node_modules/.package-lock.json ]; then
  echo "[bench] installing autocannon and @portkey-ai/gateway into bench/.tools" >&2
  (cd .tools && npm install --no-audit --no-fund --loglevel=error >&2)
fi

if [ "${BENCH_PEERS:-1}" != 0 ] && [ ! -f "$VENV/.complete-$LITELLM_SPEC" ]; then
  echo "[bench] installing $LITELLM_SPEC into $VENV" >&2
  mkdir -p "$(dirname "$VENV")"
  if { [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" >&2; } &&
    "$VENV/bin/pip" install -q --disable-pip-version-check "$LITELLM_SPEC" >&2; then
    touch "$VENV/.complete-$LITELLM_SPEC"
  else
    echo "[bench] could not install $LITELLM_SPEC: the benchmarks will run without LiteLLM" >&2
  fi
fi
