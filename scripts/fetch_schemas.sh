#!/usr/bin/env bash
# Download the upstream CustomResourceDefinitions that testing/k8s_schema.py
# validates custom resources against, and extract one JSON schema file per
# served group/version/kind.
#
# Nothing downloaded here is committed: everything lands in the cache dir
#   ${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}
#     gomod/                      Go module cache (module zips, read-only)
#     schemas/crds/<group>_<version>_<kind>.json
#     schemas/crds/index.json     provenance: which source/version/file each came from
#
# Sources:
#   Higress (McpBridge networking.higress.io/v1, WasmPlugin extensions.higress.io/v1alpha1, Http2Rpc):
#     default: the vendored upstream chart beside the repo (see ../shared/vendor/higress-2.2.1/SOURCE.md)
#       <repo>/../shared/vendor/higress-2.2.1/higress-core/crds/customresourcedefinitions.gen.yaml
#     fallback, only if that file is absent (a notice goes to stderr):
#       github.com/alibaba/higress@v1.4.2   helm/core/crds/customresourcedefinitions.gen.yaml
#       The Go module proxy serves no Higress 2.x version, and 1.4.2 lacks the 2.x fields
#       (McpBridge enableMCPServer, mcpServerBaseUrl, ...; WasmPlugin failStrategy).
# The others come from the Go module proxy with the ordinary `go mod download`
# (the module zips ship the projects' own generated CRD YAML):
#   github.com/kedacore/keda/v2@v2.20.2                     config/crd/bases/*.yaml
#   sigs.k8s.io/agent-sandbox@v0.5.6                        k8s/crds/*.yaml
#       (Sandbox agents.x-k8s.io, SandboxTemplate/SandboxWarmPool/SandboxClaim
#        extensions.agents.x-k8s.io; v1beta1 is the storage version, v1alpha1 still served)
#   github.com/prometheus-operator/prometheus-operator@v0.85.0   example/prometheus-operator-crd/*.yaml
#
# Optional: AGENT_RUNTIME_EXTRA_CRDS=path[:path...] (CRD YAML files or directories of them)
# are extracted last and override any group/version/kind from the sources above.
#
# Idempotent: a stamp (hash of this script + the extra-CRD list + the vendored Higress CRD file's
# content) makes the warm path a no-op; testing/k8s_schema.py computes the same stamp.
# Exit status: 0 ok; 1 a source could not be obtained (its name is printed); 2 missing tool.
set -euo pipefail

CACHE="${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}"
OUT="$CACHE/schemas/crds"
SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
REPO_ROOT="$(cd "$(dirname "$SCRIPT_PATH")/.." && pwd -P)"   # physical, like testing/k8s_schema.py
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x "$REPO_ROOT/venv/bin/python" ]]; then PY="$REPO_ROOT/venv/bin/python"; else PY=python3; fi
fi

HIGRESS_VENDORED="$REPO_ROOT/../shared/vendor/higress-2.2.1/higress-core/crds/customresourcedefinitions.gen.yaml"
HIGRESS_VENDORED_SOURCE="alibaba/higress@v2.2.1"
HIGRESS_VENDORED_LABEL="Higress 2.2.1 chart CRDs (vendored, ../shared/vendor)"
HIGRESS_MODULE="github.com/alibaba/higress@v1.4.2"
if [[ -f "$HIGRESS_VENDORED" ]]; then
  HIGRESS_VENDORED_SHA="$(sha256sum "$HIGRESS_VENDORED" | cut -d' ' -f1)"
else
  HIGRESS_VENDORED_SHA=absent
  echo "fetch_schemas: vendored Higress 2.2.1 CRDs not found ($HIGRESS_VENDORED); falling back to" \
       "$HIGRESS_MODULE, which lacks the Higress 2.x fields (tolerated as testing.k8s_schema.known_schema_gap)" >&2
fi

# module@version|glob (relative to the module root)|label
SOURCES=(
  "$HIGRESS_MODULE|helm/core/crds/customresourcedefinitions.gen.yaml|Higress 1.4.2 CRDs (Go module fallback, no 2.x fields)"
  "github.com/kedacore/keda/v2@v2.20.2|config/crd/bases/*.yaml|KEDA CRDs (ScaledObject, TriggerAuthentication, ...)"
  "sigs.k8s.io/agent-sandbox@v0.5.6|k8s/crds/*.yaml|agent-sandbox CRDs (Sandbox, SandboxTemplate, SandboxWarmPool, SandboxClaim)"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0|example/prometheus-operator-crd/*.yaml|Prometheus Operator CRDs (PodMonitor, ServiceMonitor, ...)"
)

stamp_key() {
  { sha256sum "$SCRIPT_PATH" | cut -d' ' -f1; printf '%s\n' "${AGENT_RUNTIME_EXTRA_CRDS:-}" "$HIGRESS_VENDORED_SHA"; } \
    | sha256sum | cut -d' ' -f1
}
KEY="$(stamp_key)"
if [[ -f "$OUT/index.json" && -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$KEY" ]]; then
  exit 0   # warm path
fi

command -v go >/dev/null 2>&1 || { echo "fetch_schemas: 'go' is not installed; it is needed to download the CRD sources from the Go module proxy" >&2; exit 2; }
"$PY" -c 'import yaml, json' 2>/dev/null || { echo "fetch_schemas: $PY lacks pyyaml (set PYTHON= to a python with pyyaml)" >&2; exit 2; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.fetch_schemas.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
# Someone else may have finished while we waited for the lock.
if [[ -f "$OUT/index.json" && -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$KEY" ]]; then exit 0; fi

export GOMODCACHE="$CACHE/gomod" GOFLAGS=-mod=mod GOTOOLCHAIN=local GO111MODULE=on
WORK="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
MANIFEST="$WORK/manifest.tsv"   # label \t source (module@version, ...) \t file
: >"$MANIFEST"

if [[ "$HIGRESS_VENDORED_SHA" != absent ]]; then
  printf '%s\t%s\t%s\n' "$HIGRESS_VENDORED_LABEL" "$HIGRESS_VENDORED_SOURCE" "$HIGRESS_VENDORED" >>"$MANIFEST"
fi
for entry in "${SOURCES[@]}"; do
  IFS='|' read -r modver glob label <<<"$entry"
  if [[ "$modver" == "$HIGRESS_MODULE" && "$HIGRESS_VENDORED_SHA" != absent ]]; then continue; fi
  if ! json="$(cd "$WORK" && go mod download -json "$modver" 2>"$WORK/go.err")"; then
    echo "fetch_schemas: cannot obtain $label from Go module $modver:" >&2
    { grep -o '"Error": *"[^"]*"' <<<"$json" || true; cat "$WORK/go.err"; } >&2
    exit 1
  fi
  dir="$(sed -n 's/^[[:space:]]*"Dir": *"\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "fetch_schemas: go mod download gave no directory for $modver ($label)" >&2; exit 1
  fi
  shopt -s nullglob
  files=( "$dir"/$glob )
  shopt -u nullglob
  if (( ${#files[@]} == 0 )); then
    echo "fetch_schemas: $modver has no files matching $glob ($label)" >&2; exit 1
  fi
  for f in "${files[@]}"; do printf '%s\t%s\t%s\n' "$label" "$modver" "$f" >>"$MANIFEST"; done
done

if [[ -n "${AGENT_RUNTIME_EXTRA_CRDS:-}" ]]; then
  IFS=':' read -r -a extras <<<"$AGENT_RUNTIME_EXTRA_CRDS"
  for p in "${extras[@]}"; do
    [[ -z "$p" ]] && continue
    if [[ -d "$p" ]]; then
      while IFS= read -r f; do printf 'extra\tAGENT_RUNTIME_EXTRA_CRDS\t%s\n' "$f" >>"$MANIFEST"; done \
        < <(find "$p" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort)
    elif [[ -f "$p" ]]; then
      printf 'extra\tAGENT_RUNTIME_EXTRA_CRDS\t%s\n' "$p" >>"$MANIFEST"
    else
      echo "fetch_schemas: AGENT_RUNTIME_EXTRA_CRDS entry $p does not exist" >&2; exit 1
    fi
  done
fi

NEW="$WORK/crds"
mkdir -p "$NEW"
"$PY" - "$MANIFEST" "$NEW" <<'PYEOF'
import hashlib, json, os, sys, yaml

manifest, out = sys.argv[1], sys.argv[2]
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# YAML 1.1 treats a bare "=" (e.g. a matcher-type enum value) as the !!value tag: keep it a string.
Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
index, per_source = {}, {}
for line in open(manifest):
    label, source, path = line.rstrip("\n").split("\t")
    path = os.path.normpath(path)
    per_source.setdefault(source, 0)
    with open(path, "rb") as fh:
        raw = fh.read()
    sha = hashlib.sha256(raw).hexdigest()
    docs = list(yaml.load_all(raw, Loader=Loader)) if not path.endswith(".json") else [json.loads(raw)]
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        if not str(doc.get("apiVersion", "")).startswith("apiextensions.k8s.io/v1"):
            continue
        spec = doc["spec"]
        group, names = spec["group"], spec["names"]
        for ver in spec.get("versions", []):
            if not ver.get("served", True):
                continue
            schema = (ver.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
            if schema is None:
                continue
            key = f'{group}_{ver["name"]}_{names["kind"]}'
            entry = {
                "group": group, "version": ver["name"], "kind": names["kind"],
                "plural": names.get("plural"), "scope": spec.get("scope"),
                "storage": bool(ver.get("storage")), "deprecated": bool(ver.get("deprecated")),
                "source": source, "source_label": label, "source_file": path, "source_sha256": sha,
            }
            with open(os.path.join(out, key + ".json"), "w") as fh:
                json.dump({**entry, "openAPIV3Schema": schema}, fh, sort_keys=True)
            index[key] = entry
            per_source[source] += 1
empty = sorted(s for s, n in per_source.items() if n == 0)
if empty:
    sys.exit(f"fetch_schemas: no CRD schemas extracted from {', '.join(empty)}")
with open(os.path.join(out, "index.json"), "w") as fh:
    json.dump(index, fh, indent=1, sort_keys=True)
print(f"fetch_schemas: {len(index)} CRD schemas extracted", file=sys.stderr)
PYEOF
printf '%s\n' "$KEY" >"$NEW/.stamp"

mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT.old"
if [[ -d "$OUT" ]]; then mv "$OUT" "$OUT.old"; fi
mv "$NEW" "$OUT"
rm -rf "$OUT.old"
