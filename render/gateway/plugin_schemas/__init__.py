"""Strict JSON schemas for the configs of the Higress Wasm plugins the platform pins.

One file per plugin image version, `<plugin>-<version>.schema.json`, hand-written from
the plugin's published console spec (higress-group/higress-console v2.2.4
`plugins/<plugin>/spec.yaml`) and its README in alibaba/higress v2.2.1; each file names
its sources under `x-source`. Unknown fields are rejected (`additionalProperties:
false`), so a typo in a plugin config fails validation instead of being silently
ignored by the plugin.

Each schema has `$defs/defaultConfig` (instance-level `spec.defaultConfig`) and
`$defs/ruleConfig` (a `spec.matchRules[].config`). For jwt-auth and key-auth these
differ: consumers only at instance level, `allow` only in rules.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Literal, Optional

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parent
_URL = re.compile(r"^oci://[^/]+(?:/[^/]+)*/(?P<name>[a-z0-9-]+):(?P<version>\d+\.\d+\.\d+)$")


def available() -> dict[tuple[str, str], Path]:
    out = {}
    for path in SCHEMA_DIR.glob("*.schema.json"):
        stem = path.name[: -len(".schema.json")]
        name, _, version = stem.rpartition("-")
        out[(name, version)] = path
    return out


@functools.lru_cache(maxsize=None)
def _schema(name: str, version: str) -> Optional[dict]:
    path = available().get((name, version))
    return json.loads(path.read_text()) if path else None


@functools.lru_cache(maxsize=None)
def _validator(name: str, version: str, scope: str) -> Optional[jsonschema.protocols.Validator]:
    schema = _schema(name, version)
    if schema is None:
        return None
    jsonschema.Draft202012Validator.check_schema(schema)
    root = dict(schema)
    root["$ref"] = f"#/$defs/{scope}"
    return jsonschema.Draft202012Validator(root)


def plugin_of(url: str) -> tuple[str, str]:
    m = _URL.match(url or "")
    if not m:
        raise ValueError(f"{url!r} is not a pinned oci://.../<plugin>:<x.y.z> plugin url")
    return m.group("name"), m.group("version")


def validate_config(name: str, version: str, config: Any, scope: Literal["defaultConfig", "ruleConfig"]) -> list[str]:
    """Errors of one plugin config against the pinned version's schema (an unknown version is an error)."""
    validator = _validator(name, version, scope)
    if validator is None:
        return [f"{name}:{version}: no config schema in render/gateway/plugin_schemas/"]
    errors = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in err.absolute_path) or "<root>"
        errors.append(f"{name}:{version} {scope} {path}: {err.message}")
    return errors


def validate_wasm_plugin(obj: dict) -> list[str]:
    """Validate `defaultConfig` (when active) and every rule config of a WasmPlugin object."""
    spec = obj.get("spec") or {}
    label = (obj.get("metadata") or {}).get("name", "<unnamed>")
    try:
        name, version = plugin_of(spec.get("url", ""))
    except ValueError as exc:
        return [f"{label}: {exc}"]
    errors: list[str] = []
    if "defaultConfig" in spec and not spec.get("defaultConfigDisable"):
        errors += [f"{label}: {e}" for e in validate_config(name, version, spec["defaultConfig"], "defaultConfig")]
    for i, rule in enumerate(spec.get("matchRules") or []):
        if "config" in rule:
            errors += [f"{label}: matchRules[{i}] {e}" for e in validate_config(name, version, rule["config"], "ruleConfig")]
    return errors
