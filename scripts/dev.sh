#!/usr/bin/env bash
# `npm start`: the whole system on this machine — stack, topics, migrations, the four apps, and the
# fake provider as the LLM (development mode). Ctrl-C stops the apps cleanly.
# Set OPENAI_API_KEY (and optionally OPENAI_BASE_URL / OPENAI_MODEL) to use a real provider instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${PORT:-8080}"
FAKE_PROVIDER_PORT="${FAKE_PROVIDER_PORT:-18080}"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash deploy/local/stack.sh start >/dev/null
set -a
# shellcheck disable=SC1090
source <(bash deploy/local/stack.sh env)
set +a
npm run --silent migrate

pids=()
run() { # name, command...
  # Each app runs in its own session so that Ctrl-C reaches only this script, which then sends
  # every app exactly one SIGTERM (a second signal would make an app exit without draining).
  setsid bash -c '"$@" 2>&1 | sed -u "s/^/[$0] /"' "$@" &
  pids+=($!)
}
stop_all() {
  trap - INT TERM
  echo; echo "stopping apps..."
  pkill -TERM -f "^node --import tsx (apps/[a-z-]+/src|libs/testing/src/fake-provider)/main.ts" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  echo "stopped. (the stack keeps running: npm run stack -- stop)"
}
trap stop_all INT TERM

if [ -z "${OPENAI_API_KEY:-}" ]; then
  export OPENAI_API_KEY=sk-fake OPENAI_BASE_URL="http://127.0.0.1:$FAKE_PROVIDER_PORT/v1"
  run fake-provider env FAKE_PROVIDER_PORT="$FAKE_PROVIDER_PORT" node --import tsx libs/testing/src/fake-provider/main.ts
fi
export PORT HOST="${HOST:-127.0.0.1}"
for app in sink processor webhook-dispatcher ingest-api; do run "$app" node --import tsx "apps/$app/src/main.ts"; done

KEY_FILE=.stack/dev-api-key
[ -s "$KEY_FILE" ] || npm run --silent keys -- create --tenant dev --name dev --json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))' >"$KEY_FILE"
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null && break; sleep 0.5; done

cat <<MSG

  Structured Prompt Service is up.
    API          http://127.0.0.1:$PORT/v1/analyze
    Docs         http://127.0.0.1:$PORT/docs
    Health       http://127.0.0.1:$PORT/v1/health
    Dev API key  $(cat "$KEY_FILE")

  Try:
    curl -s http://127.0.0.1:$PORT/v1/analyze \\
      -H "Authorization: Bearer $(cat "$KEY_FILE")" -H 'content-type: application/json' \\
      -d '{"prompt": "Extract key details from Invoice #12345, Date: 2025-01-15, Amount: \$1,250.00"}'

  Ctrl-C stops the apps.
MSG
wait "${pids[@]}"
