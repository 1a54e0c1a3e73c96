#!/usr/bin/env bash
# `npm start`: the whole system on this machine — stack, topics, migrations and the four apps.
# The LLM, unless configured otherwise, is the built-in local model (SmolLM2-135M through llama.cpp,
# fully offline); SPS_DEV_PROVIDER=fake uses the fake provider server instead (instant, scripted);
# OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY with LLM_PROVIDERS use real providers.
# Ctrl-C stops the apps cleanly.
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

if [ "${SPS_DEV_PROVIDER:-}" = fake ]; then
  export LLM_PROVIDERS=openai OPENAI_API_KEY=sk-fake OPENAI_BASE_URL="http://127.0.0.1:$FAKE_PROVIDER_PORT/v1"
  run fake-provider env FAKE_PROVIDER_PORT="$FAKE_PROVIDER_PORT" node --import tsx libs/testing/src/fake-provider/main.ts
else
  [ -n "${OPENAI_API_KEY:-}" ] && : "${LLM_PROVIDERS:=openai}"
  export LLM_PROVIDERS="${LLM_PROVIDERS:-local}"
fi
if [[ ",$LLM_PROVIDERS," == *,local,* && -z "${LOCAL_MODEL_PATH:-}" ]]; then
  LOCAL_MODEL_PATH="$(bash deploy/local/model.sh)"
  export LOCAL_MODEL_PATH
fi
export PORT HOST="${HOST:-127.0.0.1}"
for app in sink webhook-dispatcher; do run "$app" node --import tsx "apps/$app/src/main.ts"; done
# The deployed flag of the processor and ingest-api (deploy/k8s/base/<app>.yaml): larger semi-spaces, less GC per request.
run processor env NODE_OPTIONS="--max-semi-space-size=64 ${NODE_OPTIONS:-}" node --import tsx apps/processor/src/main.ts
run ingest-api env NODE_OPTIONS="--max-semi-space-size=64 ${NODE_OPTIONS:-}" node --import tsx apps/ingest-api/src/main.ts

for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/v1/health" >/dev/null && break; sleep 0.5; done
# A development key, kept across starts while the database still knows it.
KEY_FILE=.stack/dev-api-key
key_works() {
  [ -s "$KEY_FILE" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$KEY_FILE")" \
    "http://127.0.0.1:$PORT/v1/jobs?limit=1")" = 200 ]
}
key_works || npm run --silent keys -- create --tenant dev --name dev --rate-limit 100000 --json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).key))' >"$KEY_FILE"

cat <<MSG

  Structured Prompt Service is up.
    API          http://127.0.0.1:$PORT/v1/analyze
    Docs         http://127.0.0.1:$PORT/docs
    Health       http://127.0.0.1:$PORT/v1/health
    Dev API key  $(cat "$KEY_FILE")
    LLM          $LLM_PROVIDERS

  Try (the first answer of the local model also loads it: a few seconds):
    curl -s http://127.0.0.1:$PORT/v1/analyze \\
      -H "Authorization: Bearer $(cat "$KEY_FILE")" -H 'content-type: application/json' \\
      -d '{"prompt": "Book a table for two at Luigi on Friday at 8pm",
           "schema": {"type": "object", "required": ["restaurant", "people", "day"],
                      "properties": {"restaurant": {"type": "string"}, "people": {"type": "integer"}, "day": {"type": "string"}}}}'
  Without a schema the answer is the default analysis (intent, subject, entities, language, confidence).

  Ctrl-C stops the apps.
MSG
wait "${pids[@]}"
