#!/usr/bin/env bash
# Renders every kustomize overlay in deploy/k8s/overlays (or the overlay folders given as
# arguments) and validates each rendered resource with kubeconform in -strict mode, offline:
#   - Kubernetes JSON schemas from the PyPI package kubernetes-validate (pip, in a venv),
#   - KEDA's CRD schemas (ScaledObject, ...) from the KEDA Go module (`go mod download`),
#     converted by schemas.py to kubeconform's {kind}_{version}.json layout,
#   - kustomize and kubeconform built with `go install` from the Go module proxy
#     (kustomize falls back to `kubectl kustomize` when Go cannot build it).
# Everything lands in ${SPS_CACHE_DIR:-~/.cache/sps} once; later runs reuse it.
# Fails on any invalid, unvalidatable or skipped resource, and prints the counts per overlay.
# K8S_REPORT_DIR (optional): where to keep kubeconform's JSON report per overlay (<overlay>.json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.2}" # v5.8.3 needs Go >= 1.27
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
K8S_VERSION="${K8S_VERSION:-1.33.0}" # the cluster version validated against

cache="${SPS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sps}" # as deploy/local/env.sh
bin="$cache/bin"
mkdir -p "$bin"
log() { printf 'k8s-validate: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# One installer at a time (two test runs may start together); validation itself runs unlocked.
if command -v flock >/dev/null; then
  exec 9>"$cache/.k8s-validate.lock"
  flock 9
fi

# go_tool NAME MODULE VERSION: builds $bin/NAME-VERSION once, prints its path.
go_tool() {
  local name="$1" module="$2" version="$3" target="$bin/$1-$3"
  if [ ! -x "$target" ]; then
    command -v go >/dev/null || return 1
    log "go install $module@$version (first run only)"
    local tmp
    tmp="$(mktemp -d "$bin/.install-XXXXXX")"
    if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$module@$version" >&2; then
      rm -rf "$tmp"
      return 1
    fi
    mv "$tmp/$name" "$target"
    rm -rf "$tmp"
    ln -sfn "$name-$version" "$bin/$name"
  fi
  printf '%s\n' "$target"
}

kubeconform="$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")" ||
  die "kubeconform $KUBECONFORM_VERSION is missing and Go could not build it (install Go, or put it at $bin/kubeconform-$KUBECONFORM_VERSION)"

if kustomize_bin="$(go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")"; then
  render=("$kustomize_bin" build)
  renderer="kustomize $KUSTOMIZE_VERSION"
elif command -v kubectl >/dev/null; then
  render=(kubectl kustomize)
  renderer="kubectl kustomize ($(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'))"
else
  die "neither Go (to build kustomize $KUSTOMIZE_VERSION) nor kubectl is available"
fi

# Kubernetes schemas: kubernetes-validate in its own venv.
venv="$cache/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import kubernetes_validate, yaml' 2>/dev/null; then
  log "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION into $venv (first run only)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
fi
k8s_src="$("$venv/bin/python" -c 'import os, kubernetes_validate; print(os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema"))')/v$K8S_VERSION-local-strict"
[ -f "$k8s_src/_definitions.json" ] || die "kubernetes-validate $KUBERNETES_VALIDATE_VERSION has no schemas for Kubernetes $K8S_VERSION ($k8s_src)"

# Converted schemas, keyed by every input (including the converter itself).
converter_sum="$(cksum <"$here/schemas.py" | cut -d' ' -f1)"
schemas="$cache/k8s-schemas/k8s-v$K8S_VERSION-kv-$KUBERNETES_VALIDATE_VERSION-keda-$KEDA_VERSION-$converter_sum"
if [ ! -d "$schemas" ]; then
  command -v go >/dev/null || die "Go is needed once to fetch KEDA's CRDs (go mod download github.com/kedacore/keda/v2@$KEDA_VERSION)"
  log "go mod download github.com/kedacore/keda/v2@$KEDA_VERSION (first run only)"
  keda_dir="$(go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" | "$venv/bin/python" -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error", "no Dir")))')"
  crds=()
  for crd in "$keda_dir"/config/crd/bases/keda.sh_*.yaml; do crds+=(--crd "$crd"); done
  [ "${#crds[@]}" -gt 0 ] || die "no KEDA CRDs under $keda_dir/config/crd/bases"
  "$venv/bin/python" "$here/schemas.py" --k8s-src "$k8s_src" --out "$schemas" "${crds[@]}"
fi
[ -f "$schemas/crds/keda.sh/scaledobject_v1alpha1.json" ] || die "KEDA ScaledObject schema missing in $schemas"

exec 9>&- # installs done: release the lock

overlays=("$@")
if [ "${#overlays[@]}" -eq 0 ]; then
  for dir in "$here"/overlays/*/; do overlays+=("${dir%/}"); done
fi
report_dir="${K8S_REPORT_DIR:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -n "$report_dir" ] && mkdir -p "$report_dir"

log "$renderer, kubeconform $KUBECONFORM_VERSION, Kubernetes $K8S_VERSION schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION), KEDA $KEDA_VERSION CRDs"
failed=0
for overlay in "${overlays[@]}"; do
  name="$(basename "$overlay")"
  if ! "${render[@]}" "$overlay" >"$work/$name.yaml" 2>"$work/$name.render.err"; then
    cat "$work/$name.render.err" >&2
    log "FAIL $name: kustomize could not render $overlay"
    failed=1
    continue
  fi
  status=0
  "$kubeconform" -strict -summary -verbose -output json \
    -kubernetes-version "$K8S_VERSION" \
    -schema-location "$schemas/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$schemas/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$work/$name.yaml" >"$work/$name.json" || status=$?
  [ -n "$report_dir" ] && cp "$work/$name.json" "$report_dir/$name.json"
  # One line per overlay; every resource that is not `valid` is listed with kubeconform's message.
  if ! "$venv/bin/python" - "$name" "$work/$name.json" "$status" <<'PY'; then
import json, sys
name, path, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    report = json.load(open(path))
except ValueError:
    print(open(path).read(), file=sys.stderr)
    sys.exit(f"k8s-validate: FAIL {name}: kubeconform printed no JSON report (exit {status})")
resources = report.get("resources") or []
summary = report.get("summary") or {}
bad = [r for r in resources if r.get("status") != "statusValid"]
for r in bad:
    print(f"k8s-validate:   {name}: {r.get('kind')}/{r.get('name')}: {r.get('status')}: {r.get('msg', '')}", file=sys.stderr)
kinds = {}
for r in resources:
    if r.get("status") == "statusValid":
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
valid = sum(kinds.values())
checked = len([r for r in resources if r.get("status") != "statusSkipped"])
line = (f"{name}: {checked} resources validated ({summary.get('valid', 0)} valid, "
        f"{summary.get('invalid', 0)} invalid, {summary.get('errors', 0)} errors, "
        f"{summary.get('skipped', 0)} skipped) — " + "valid: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
ok = status == 0 and not bad and valid > 0 and valid == len(resources)
print(("k8s-validate: ok   " if ok else "k8s-validate: FAIL ") + line)
sys.exit(0 if ok else 1)
PY
    failed=1
  fi
done
[ "$failed" -eq 0 ] || die "invalid Kubernetes manifests (see above)"
log "all ${#overlays[@]} overlays valid"
