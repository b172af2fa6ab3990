"""Run the policy pack over a program's registrations without the CLI, the way the engine would.

* `engine_config()` reconciles a policy-pack config file with the pack's own metadata like
  the engine does before `Configure`: every policy gets its declared enforcement level and
  its schema defaults, then `all` and per-policy entries of the file are applied, and the
  result is validated against each policy's config schema.
* `run_direct()` calls each policy's validate (and remediate first, for policies at level
  remediate) with real `ResourceValidationArgs`/`StackValidationArgs`, props wrapped in
  pulumi-policy's unknown-checking proxy as the analyzer does.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

REPO = Path(__file__).resolve().parent.parent
PACK_DIR = REPO / "policies"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))

import jsonschema  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy  # noqa: E402
from pulumi_policy.policy import (  # noqa: E402
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    _NotApplicableError,
)
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

import agent_runtime_policies as pack  # noqa: E402

LEVELS = {
    "advisory": EnforcementLevel.ADVISORY,
    "mandatory": EnforcementLevel.MANDATORY,
    "remediate": EnforcementLevel.REMEDIATE,
    "disabled": EnforcementLevel.DISABLED,
}
PROTO_LEVELS = {
    EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY,
    EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
    EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE,
    EnforcementLevel.DISABLED: analyzer_pb2.DISABLED,
}
BY_NAME = {p.name: p for p in pack.POLICIES}


@dataclass
class Resource:
    """What the engine knows of one registration."""

    type: str
    name: str
    urn: str
    props: dict
    parent: str = ""


@dataclass
class Violation:
    policy: str
    level: EnforcementLevel
    message: str
    urn: Optional[str]


def urn(type_: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::agent-runtime::{type_}::{name}"


def from_registered(registered: Iterable[Any]) -> list[Resource]:
    """harness.Registered -> Resource (custom resources and components alike, as the engine sees them)."""
    return [Resource(r.typ, r.name, r.urn, copy.deepcopy(r.inputs), r.parent) for r in registered]


def config_file(env: Optional[str]) -> Optional[dict]:
    if env is None:
        return None
    return json.loads((PACK_DIR / f"config.{env}.json").read_text())


def engine_config(given: Optional[dict]) -> dict[str, tuple[EnforcementLevel, dict]]:
    """Per-policy (level, properties) as the engine would send them in Configure."""
    result: dict[str, tuple[EnforcementLevel, dict]] = {}
    for p in pack.POLICIES:
        props = {}
        if p.config_schema is not None:
            for k, v in (p.config_schema.properties or {}).items():
                if "default" in v:
                    props[k] = copy.deepcopy(v["default"])
        result[p.name] = (p.enforcement_level or EnforcementLevel.MANDATORY, props)
    given = copy.deepcopy(given or {})
    if isinstance(given.get("all"), str):
        for k, (_, props) in result.items():
            result[k] = (LEVELS[given["all"]], props)
    for name, value in given.items():
        if name == "all" or name not in result:
            continue
        level, props = result[name]
        if isinstance(value, str):
            level = LEVELS[value]
        else:
            value = dict(value)
            if "enforcementLevel" in value:
                level = LEVELS[value.pop("enforcementLevel")]
            props = {**props, **value}
        result[name] = (level, props)
    for p in pack.POLICIES:
        if p.config_schema is not None:
            schema = {"type": "object", "properties": p.config_schema.properties}
            if p.config_schema.required:
                schema["required"] = p.config_schema.required
            jsonschema.validate(result[p.name][1], schema)
    return result


def _opts(parent: str = "") -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent or None)


def run_direct(resources: list[Resource], env: Optional[str] = "dev", given: Optional[dict] = None) -> list[Violation]:
    """Every policy over `resources`, remediations first (as the engine orders them)."""
    config = engine_config(given if given is not None else config_file(env))
    found: list[Violation] = []
    remediated: list[Resource] = []
    for res in resources:
        props = copy.deepcopy(res.props)
        for p in pack.POLICIES:
            level, cfg = config[p.name]
            if level == EnforcementLevel.REMEDIATE and isinstance(p, ResourceValidationPolicy) and p.has_remediation():
                args = ResourceValidationArgs(res.type, props, res.urn, res.name, _opts(res.parent), None, cfg)
                new = p.remediate(args)
                if new:
                    props = _unproxy(new)
        remediated.append(Resource(res.type, res.name, res.urn, props, res.parent))
        for p in pack.POLICIES:
            level, cfg = config[p.name]
            if level == EnforcementLevel.DISABLED or not isinstance(p, ResourceValidationPolicy):
                continue
            report_level = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level
            args = ResourceValidationArgs(
                res.type, unknown_checking_proxy(copy.deepcopy(props)), res.urn, res.name, _opts(res.parent), None, cfg
            )

            def report(message, urn_=None, _p=p, _l=report_level):
                found.append(Violation(_p.name, _l, message, urn_))

            try:
                p.validate(args, report)
            except _NotApplicableError:
                pass
    policy_resources = [
        PolicyResource(r.type, unknown_checking_proxy(copy.deepcopy(r.props)), r.urn, r.name, _opts(r.parent), None, None, [], {})
        for r in remediated
    ]
    for p in pack.POLICIES:
        level, cfg = config[p.name]
        if level == EnforcementLevel.DISABLED or not isinstance(p, StackValidationPolicy):
            continue
        report_level = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level

        def report(message, urn_=None, _p=p, _l=report_level):
            found.append(Violation(_p.name, _l, message, urn_))

        try:
            p.validate(StackValidationArgs(policy_resources, cfg), report)
        except _NotApplicableError:
            pass
    return found


def _unproxy(value: Any) -> Any:
    from collections.abc import Mapping, Sequence

    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {k: _unproxy(value[k]) for k in value}
    if isinstance(value, Sequence):
        return [_unproxy(value[i]) for i in range(len(value))]
    return value
