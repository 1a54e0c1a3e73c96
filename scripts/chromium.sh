#!/usr/bin/env bash
# Ensures Debian's Chromium is installed (for the playground's browser test, e2e/playground) and
# prints its path. Idempotent: installs only when no chromium is found. Needs root (or sudo) for apt.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then
  echo "${CHROMIUM_PATH}"
  exit 0
fi
if ! command -v chromium >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "installing Debian's chromium (apt-get)..." >&2
  $sudo apt-get install -y --no-install-recommends chromium >&2 ||
    { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends chromium >&2; }
fi
command -v chromium
