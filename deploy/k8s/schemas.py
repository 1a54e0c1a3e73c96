#!/usr/bin/env python3
"""Builds the offline JSON schemas kubeconform validates deploy/k8s against (run by validate.sh).

  schemas.py --k8s-src DIR --out OUT [--crd FILE.yaml ...]

1. Kubernetes: DIR is one `v<version>-local-strict` folder of the PyPI package kubernetes-validate
   (one `<kind>[-<group>]-<version>.json` per resource plus `_definitions.json`). Its files have
   `$id`s under https://kubernetes.io/api/ and `$ref: /api/_definitions.json#...`, which
   kubeconform would try to fetch over the network; they are copied to
   OUT/kubernetes/<basename of DIR, "-local" -> "-standalone">/ with the `$id`s dropped and the refs
   made relative ("_definitions.json#..."), so kubeconform resolves them as local files with
     -schema-location 'OUT/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json'
2. CRDs (KEDA): each CustomResourceDefinition's openAPIV3Schema per served version becomes
   OUT/crds/<group>/<kind>_<version>.json, as kubeconform's openapi2jsonschema.py does in strict
   mode: `additionalProperties: false` on every object that lists `properties` (unless it says
   x-kubernetes-preserve-unknown-fields or sets additionalProperties itself), int-or-string as
   string|integer; apiVersion/kind pinned to the CRD's. Used with
     -schema-location 'OUT/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'

Writes to a temporary folder and renames it into place, so an interrupted run leaves no half tree.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

import yaml  # PyYAML: a dependency of kubernetes-validate, so present in its venv


def convert_kubernetes(src: str, dest: str) -> int:
    os.makedirs(dest)
    count = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            schema = json.load(f)
        schema.pop("$id", None)
        text = json.dumps(schema, separators=(",", ":"))
        text = text.replace('"$ref":"/api/_definitions.json#', '"$ref":"_definitions.json#')
        if "/api/_definitions.json" in text:
            raise SystemExit(f"{name}: unexpected reference form left after rewriting")
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            f.write(text)
        count += 1
    if not os.path.exists(os.path.join(dest, "_definitions.json")):
        raise SystemExit(f"{src}: no _definitions.json — not a kubernetes-validate schema folder")
    return count


def strict(node, preserve_unknown=False):
    """openapi2jsonschema's additional_properties + replace_int_or_string, recursively."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string") or node.get("format") == "int-or-string":
        return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    out = {key: strict(value) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
        and not preserve_unknown
    ):
        out["additionalProperties"] = False
    return out


def convert_crd(path: str, dest_root: str) -> list[str]:
    written = []
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    for crd in docs:
        if crd.get("kind") != "CustomResourceDefinition":
            continue
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served", True):
                continue
            schema = strict(version["schema"]["openAPIV3Schema"])
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            schema["$schema"] = "http://json-schema.org/draft-07/schema#"
            folder = os.path.join(dest_root, group)
            os.makedirs(folder, exist_ok=True)
            out = os.path.join(folder, f"{kind.lower()}_{version['name']}.json")
            with open(out, "w", encoding="utf-8") as f:
                json.dump(schema, f, indent=1, sort_keys=True)
            written.append(os.path.relpath(out, dest_root))
    if not written:
        raise SystemExit(f"{path}: no CustomResourceDefinition with a served version")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k8s-src", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--crd", action="append", default=[])
    args = parser.parse_args()

    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".schemas-", dir=parent)
    try:
        folder = os.path.basename(os.path.normpath(args.k8s_src)).replace("-local", "-standalone")
        n = convert_kubernetes(args.k8s_src, os.path.join(tmp, "kubernetes", folder))
        crds = []
        for crd in args.crd:
            crds += convert_crd(crd, os.path.join(tmp, "crds"))
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        os.rename(tmp, args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"schemas: {n} Kubernetes ({folder}), CRDs: {', '.join(crds)}", file=sys.stderr)


if __name__ == "__main__":
    main()
