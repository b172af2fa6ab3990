"""Strict schema validation of the Kubernetes objects the Pulumi program registers.

Public API
----------
``validate_object(obj) -> list[str]``
    Validate one Kubernetes object strictly; return human-readable errors
    (``"<Kind>/<name>: <json.path>: <problem>"``), empty when valid.

    * Built-in kinds: the strict schemas shipped by ``kubernetes-validate`` for
      Kubernetes ``K8S_VERSION`` (unknown fields are errors).
    * Custom resources: the upstream CRD ``openAPIV3Schema`` of that exact
      group/version/kind, made strict the way the API server prunes: a field the
      schema does not declare is an error unless that node carries
      ``x-kubernetes-preserve-unknown-fields: true``; ``null`` in a non-nullable
      field is an error; ``x-kubernetes-int-or-string`` is honoured; the root
      ``metadata`` is checked against the strict ObjectMeta schema.  CEL rules
      (``x-kubernetes-validations``) and ``format`` are not evaluated.
    * A kind with no known schema (or a version the CRD does not serve) is an error.

``pulumi_resource_to_object(typ, name, inputs) -> dict | None``
    Turn what a Pulumi mock sees for a pulumi-kubernetes resource into a plain
    Kubernetes object (``None`` for anything that is not a Kubernetes object).

``ensure_crd_schemas() -> Path``
    Make sure the CRD schema cache exists (runs ``scripts/fetch_schemas.sh`` on
    first use); returns the directory of ``<group>_<version>_<kind>.json`` files.

``known_schema_gap(error) -> bool``
    True only for errors about Higress 2.x fields while the cached Higress schemas
    came from the 1.4.2 fallback (the vendored 2.2.1 CRD file was absent).

CRD sources and versions: see ``CRD_SOURCES`` and ``scripts/fetch_schemas.sh``.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Optional

import jsonschema
import kubernetes_validate.utils as kv_utils
from referencing import Registry, Resource

__all__ = [
    "K8S_VERSION",
    "CRD_SOURCES",
    "SchemaUnavailableError",
    "ensure_crd_schemas",
    "validate_object",
    "validate_objects",
    "pulumi_resource_to_object",
    "known_custom_kinds",
    "known_schema_gap",
    "higress_schema_sources",
]

#: Kubernetes version whose built-in schemas are used: the newest kubernetes-validate ships.
K8S_VERSION = "1.37.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
FETCH_SCRIPT = REPO_ROOT / "scripts" / "fetch_schemas.sh"

#: The vendored upstream Higress 2.2.1 CRDs (../shared/vendor/higress-2.2.1/SOURCE.md): the
#: default source of the Higress schemas. Only when it is absent does fetch_schemas.sh fall
#: back to HIGRESS_FALLBACK_MODULE, which lacks the 2.x fields (see known_schema_gap).
HIGRESS_VENDORED_CRDS = (REPO_ROOT.parent / "shared" / "vendor" / "higress-2.2.1" / "higress-core" / "crds"
                         / "customresourcedefinitions.gen.yaml")
HIGRESS_VENDORED_SOURCE = "alibaba/higress@v2.2.1"
HIGRESS_FALLBACK_MODULE = "github.com/alibaba/higress@v1.4.2"
HIGRESS_GROUPS = ("networking.higress.io", "extensions.higress.io")

_HIGRESS_DEFAULT = f"{HIGRESS_VENDORED_SOURCE} ../shared/vendor/higress-2.2.1/higress-core/crds/customresourcedefinitions.gen.yaml"
#: Where each CRD schema comes from (first word = the index's "source"); besides the vendored
#: Higress file, all via `go mod download` from the Go module proxy.
CRD_SOURCES = {
    "networking.higress.io": _HIGRESS_DEFAULT,
    "extensions.higress.io": _HIGRESS_DEFAULT,
    "keda.sh": "github.com/kedacore/keda/v2@v2.20.2 config/crd/bases/",
    "eventing.keda.sh": "github.com/kedacore/keda/v2@v2.20.2 config/crd/bases/",
    "agents.x-k8s.io": "sigs.k8s.io/agent-sandbox@v0.5.6 k8s/crds/",
    "extensions.agents.x-k8s.io": "sigs.k8s.io/agent-sandbox@v0.5.6 k8s/crds/",
    "monitoring.coreos.com": "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/",
}

_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META_REF = _DEFS_ID + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class SchemaUnavailableError(RuntimeError):
    """The CRD schema cache could not be built (a source could not be downloaded)."""


# --------------------------------------------------------------------------- cache


def _cache_dir() -> Path:
    base = os.environ.get("AGENT_RUNTIME_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "agent-runtime")
    return Path(base) / "schemas" / "crds"


def _expected_stamp(script: Path = FETCH_SCRIPT, vendored: Path = HIGRESS_VENDORED_CRDS) -> str:
    """The stamp fetch_schemas.sh writes: its own hash, AGENT_RUNTIME_EXTRA_CRDS, the vendored file's hash."""
    script_sha = hashlib.sha256(script.read_bytes()).hexdigest()
    vendored_sha = hashlib.sha256(vendored.read_bytes()).hexdigest() if vendored.is_file() else "absent"
    payload = f"{script_sha}\n{os.environ.get('AGENT_RUNTIME_EXTRA_CRDS', '')}\n{vendored_sha}\n".encode()
    return hashlib.sha256(payload).hexdigest()


_FETCH_FAILURES: dict[tuple[str, str], SchemaUnavailableError] = {}


@functools.lru_cache(maxsize=None)
def _ensure_crd_schemas(cache: str, stamp: str) -> Path:
    if (cache, stamp) in _FETCH_FAILURES:  # don't re-run a failed download for every object
        raise _FETCH_FAILURES[(cache, stamp)]
    try:
        return _fetch_crd_schemas(cache, stamp)
    except SchemaUnavailableError as exc:
        _FETCH_FAILURES[(cache, stamp)] = exc
        raise


def _fetch_crd_schemas(cache: str, stamp: str) -> Path:
    out = Path(cache)
    stamp_file, index_file = out / ".stamp", out / "index.json"
    if index_file.is_file() and stamp_file.is_file() and stamp_file.read_text().strip() == stamp:
        return out
    env = dict(os.environ, PYTHON=sys.executable)
    try:
        proc = subprocess.run(["bash", str(FETCH_SCRIPT)], env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:  # pragma: no cover - environment failure
        raise SchemaUnavailableError(f"could not run {FETCH_SCRIPT}: {exc}") from exc
    if proc.returncode != 0 or not index_file.is_file():
        detail = (proc.stderr or proc.stdout).strip()[-3000:]
        raise SchemaUnavailableError(
            f"CRD schemas are unavailable: {FETCH_SCRIPT.relative_to(REPO_ROOT)} exited {proc.returncode}.\n"
            f"{detail}\n(sources: {json.dumps(CRD_SOURCES, indent=1)})"
        )
    for line in proc.stderr.splitlines():  # pass on the script's fallback notice
        if line.startswith("fetch_schemas: vendored Higress"):
            print(line, file=sys.stderr)
    return out


def ensure_crd_schemas() -> Path:
    """Return the directory of extracted CRD schemas, fetching them on first use."""
    return _ensure_crd_schemas(str(_cache_dir()), _expected_stamp())


@functools.lru_cache(maxsize=None)
def _crd_index(cache: str) -> dict[str, dict]:
    return json.loads((Path(cache) / "index.json").read_text())


def known_custom_kinds() -> dict[str, dict]:
    """``{"<group>_<version>_<kind>": provenance}`` for every CRD schema available."""
    return dict(_crd_index(str(ensure_crd_schemas())))


# --------------------------------------------------------------------------- built-in schemas


@functools.lru_cache(maxsize=1)
def _k8s_defs() -> dict:
    return kv_utils.schema_contents(f"kubernetes-json-schema/v{K8S_VERSION}-local-strict/_definitions.json", K8S_VERSION)


@functools.lru_cache(maxsize=1)
def _registry() -> Registry:
    return Resource.from_contents(_k8s_defs()) @ Registry()


def _split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


@functools.lru_cache(maxsize=None)
def _builtin_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group, version = _split_api_version(api_version)
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    fname = f"kubernetes-json-schema/v{K8S_VERSION}-local-strict/{kind.lower()}-{short}.json"
    try:
        schema = kv_utils.schema_contents(fname, K8S_VERSION)
    except FileNotFoundError:
        return None
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not any(g.get("group", "") == group and g.get("version") == version and g.get("kind") == kind for g in gvks):
        return None  # same file-name stem, different API group (e.g. a CRD group "networking.foo.io")
    resource = Resource.from_contents(schema)
    registry = resource @ _registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


# --------------------------------------------------------------------------- CRD schemas


def _crd_to_jsonschema(node: Any, *, structural: bool = True) -> Any:
    """Translate a (structural) CRD openAPIV3Schema node into strict JSON Schema.

    ``structural`` is False under allOf/anyOf/oneOf/not, where Kubernetes forbids
    declaring fields, so no "unknown field" closure is added there.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "example", "externalDocs", "default", "format", "x-kubernetes-validations",
                   "x-kubernetes-map-type", "x-kubernetes-list-map-keys", "x-kubernetes-embedded-resource",
                   "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "nullable",
                   "x-kubernetes-list-type"):
            continue
        if key == "properties":
            out[key] = {k: _crd_to_jsonschema(v, structural=structural) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = _crd_to_jsonschema(value, structural=structural and key != "not")
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_crd_to_jsonschema(v, structural=False) for v in value]
        else:
            out[key] = value

    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})

    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        alternatives: list[dict] = [{"type": "integer"}, {"type": "string"}]
        if node.get("nullable"):
            alternatives.append({"type": "null"})
        out.setdefault("allOf", []).append({"anyOf": alternatives})
    elif node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]

    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True

    is_object = node.get("type") == "object" or "properties" in node
    if (structural and is_object and not node.get("x-kubernetes-preserve-unknown-fields")
            and "additionalProperties" not in node):
        out["additionalProperties"] = False  # the API server would prune anything else
    return out


@functools.lru_cache(maxsize=None)
def _crd_validator(cache: str, key: str) -> jsonschema.protocols.Validator:
    raw = json.loads((Path(cache) / f"{key}.json").read_text())
    schema = _crd_to_jsonschema(copy.deepcopy(raw["openAPIV3Schema"]))
    schema["type"] = "object"
    props = schema.setdefault("properties", {})
    group, version, kind = raw["group"], raw["version"], raw["kind"]
    props["apiVersion"] = {"const": f"{group}/{version}"}
    props["kind"] = {"const": kind}
    props["metadata"] = {"$ref": _OBJECT_META_REF}
    schema["additionalProperties"] = False
    schema.pop("x-kubernetes-preserve-unknown-fields", None)
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return jsonschema.Draft202012Validator(schema, registry=_registry())


# --------------------------------------------------------------------------- validation


def _fmt_path(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            part = str(part)
            text += f".{part}" if re.fullmatch(r"[A-Za-z_$][\w$-]*", part) else f"[{json.dumps(part)}]"
    return text.lstrip(".") or "<root>"


def _unknown_fields(error: jsonschema.ValidationError) -> list[str]:
    instance, schema = error.instance, error.schema
    if not isinstance(instance, dict):
        return []
    declared = set(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return sorted(k for k in instance if k not in declared and not any(p.search(k) for p in patterns))


def _describe(error: jsonschema.ValidationError, label: str) -> list[str]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.schema.get("additionalProperties") is False:
        extras = _unknown_fields(error)
        if extras:
            return [f"{label}: {_fmt_path([*path, e])}: unknown field {e!r} (not in the schema; the API server "
                    f"would reject or silently drop it)" for e in extras]
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return [f"{label}: {_fmt_path(path)}: {error.message} (e.g. {best.message})"]
    return [f"{label}: {_fmt_path(path)}: {error.message}"]


def _label(obj: dict) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or "<unnamed>"
    ns = meta.get("namespace")
    return f"{obj.get('kind', '<no kind>')}/{ns + '/' if ns else ''}{name}"


def validate_object(obj: dict) -> list[str]:
    """Strictly validate one Kubernetes object; return readable errors (empty list = valid)."""
    if not isinstance(obj, dict):
        return [f"<object>: expected a mapping, got {type(obj).__name__}"]
    label = _label(obj)
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    errors: list[str] = []
    if not isinstance(api_version, str) or not api_version:
        errors.append(f"{label}: apiVersion: missing or not a string")
    if not isinstance(kind, str) or not kind:
        errors.append(f"{label}: kind: missing or not a string")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        errors.append(f"{label}: metadata: missing or not an object")
    elif not (meta.get("name") or meta.get("generateName")):
        errors.append(f"{label}: metadata.name: missing (and no generateName)")
    if errors and not (isinstance(api_version, str) and isinstance(kind, str)):
        return errors

    validator = _builtin_validator(api_version, kind)
    if validator is None:
        group, version = _split_api_version(api_version)
        try:
            cache = str(ensure_crd_schemas())
        except SchemaUnavailableError as exc:
            return errors + [f"{label}: cannot validate {api_version} {kind}: {exc}"]
        index = _crd_index(cache)
        key = f"{group}_{version}_{kind}"
        if key not in index:
            served = sorted(f"{e['group']}/{e['version']}" for e in index.values() if e["kind"] == kind)
            hint = f"; known apiVersions for {kind}: {', '.join(served)}" if served else ""
            return errors + [f"{label}: no schema known for apiVersion {api_version!r} kind {kind!r} "
                             f"(not a Kubernetes {K8S_VERSION} built-in nor a known CRD){hint}"]
        validator = _crd_validator(cache, key)

    found = sorted(validator.iter_errors(obj), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for error in found:
        errors.extend(_describe(error, label))
    return errors


def validate_objects(objs: Iterable[dict]) -> list[str]:
    """Validate many objects; concatenated errors."""
    errors: list[str] = []
    for obj in objs:
        errors.extend(validate_object(obj))
    return errors


# --------------------------------------------------------------------------- Pulumi wire form

_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_VERSION_RE = re.compile(r"^v\d+((alpha|beta)\d+)?$")
_NON_OBJECT_GROUPS = {"helm.sh", "yaml", "kustomize"}
# Maps whose keys are user data, never Pulumi-internal.
_DATA_MAPS = {"labels", "annotations", "data", "stringData", "binaryData"}


def _plain(value: Any, *, in_data_map: bool = False) -> Any:
    if isinstance(value, dict):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:  # a Pulumi secret in wire form
            return _plain(value.get("value"), in_data_map=in_data_map)
        return {
            k: _plain(v, in_data_map=k in _DATA_MAPS and not in_data_map)
            for k, v in value.items()
            if in_data_map or not (isinstance(k, str) and k.startswith("__"))
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def pulumi_resource_to_object(typ: str, name: str, inputs: dict) -> dict | None:
    """Plain Kubernetes object for a pulumi-kubernetes resource as a Pulumi mock sees it.

    ``typ`` e.g. ``kubernetes:apps/v1:Deployment``, ``kubernetes:core/v1:Secret`` or
    ``kubernetes:apiextensions.k8s.io:CustomResource``.  Returns ``None`` for anything
    that is not a single Kubernetes object: other providers (``random:...``),
    ``pulumi:providers:...``, components, Helm releases/charts, YAML/kustomize
    groups, and server-side-apply ``...Patch`` resources.
    """
    parts = typ.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    module, kind = parts[1], parts[2]
    obj = _plain(dict(inputs or {}))
    if module == "apiextensions.k8s.io" and kind == "CustomResource":
        if not obj.get("apiVersion") or not obj.get("kind"):
            return None
    else:
        if "/" not in module or kind.endswith("Patch"):
            return None
        group, version = module.rsplit("/", 1)
        if not _VERSION_RE.match(version) or group.split("/")[0] in _NON_OBJECT_GROUPS:
            return None
        obj["apiVersion"] = version if group in ("core", "") else f"{group}/{version}"
        obj["kind"] = kind
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if isinstance(meta, dict) and not meta.get("name") and not meta.get("generateName"):
        meta["name"] = name  # Pulumi auto-names from the resource name
    ordered = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    ordered.update({k: v for k, v in obj.items() if k not in ordered})
    return ordered


# Fields that arrived in Higress 2.x (checked against upstream's v2.2.1 CRD file) and are missing
# from HIGRESS_FALLBACK_MODULE's CRDs. known_schema_gap tolerates errors about exactly these, and
# only while the cached schema of that kind came from the fallback module.
HIGRESS_2X_ONLY_FIELDS = frozenset({
    ("McpBridge", "enableMCPServer"),
    ("McpBridge", "mcpServerBaseUrl"),
    ("WasmPlugin", "failStrategy"),
})
_UNKNOWN_FIELD = re.compile(r"^(?P<kind>\w+)/[^:]+: [^:]*: unknown field '(?P<field>\w+)'")


def unknown_field(error: str) -> Optional[tuple[str, str]]:
    """(kind, field) of a validate_object "unknown field" error, else None."""
    m = _UNKNOWN_FIELD.match(error)
    return (m["kind"], m["field"]) if m else None


def higress_schema_sources(index: Optional[dict[str, dict]] = None) -> dict[str, str]:
    """``{"<group>_<version>_<kind>": source}`` of the Higress schemas in the cache (or in ``index``)."""
    if index is None:
        index = known_custom_kinds()
    return {k: e["source"] for k, e in sorted(index.items()) if e["group"] in HIGRESS_GROUPS}


def known_schema_gap(error: str, index: Optional[dict[str, dict]] = None) -> bool:
    """True only for an "unknown field" error about a Higress 2.x field (HIGRESS_2X_ONLY_FIELDS)
    whose kind's cached schema came from HIGRESS_FALLBACK_MODULE, i.e. the vendored 2.2.1 CRDs
    were absent. With the vendored file or AGENT_RUNTIME_EXTRA_CRDS supplying that kind, nothing
    is tolerated. Decided from the cache's index.json provenance (or ``index``)."""
    kind_field = unknown_field(error)
    if kind_field not in HIGRESS_2X_ONLY_FIELDS:
        return False
    if index is None:
        try:
            index = known_custom_kinds()
        except SchemaUnavailableError:
            return False
    sources = {e["source"] for e in index.values() if e["group"] in HIGRESS_GROUPS and e["kind"] == kind_field[0]}
    return sources == {HIGRESS_FALLBACK_MODULE}
