#!/usr/bin/env bash
# Prometheus and promtool (Debian's `prometheus` package, 2.42 on bookworm) for the alert-rule unit
# tests and the observability e2e test. Installs them with apt-get when missing (idempotent) and
# prints their paths as shell assignments:
#   PROMETHEUS=/usr/bin/prometheus
#   PROMTOOL=/usr/bin/promtool
# Usage: eval "$(bash deploy/observability/tools.sh)"   (or `source <(...)` under `set -a`)
set -euo pipefail
# shellcheck source=../local/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/env.sh"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  [ "$(id -u)" = 0 ] || die "prometheus/promtool missing: install Debian's 'prometheus' package (needs root)"
  # The package would start its own daemon on :9090; keep it from doing so while it installs.
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  status=0
  apt_install --no-install-recommends prometheus || status=$?
  [ -z "$created_policy" ] || rm -f /usr/sbin/policy-rc.d
  [ "$status" = 0 ] || die "apt-get install prometheus failed"
fi

printf 'PROMETHEUS=%s\n' "$(command -v prometheus)"
printf 'PROMTOOL=%s\n' "$(command -v promtool)"
