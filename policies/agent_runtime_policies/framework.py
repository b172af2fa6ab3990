"""Thin helpers over pulumi-policy: checks are plain functions that yield messages.

A resource check gets `(res, cfg)` and yields violation messages; a stack check gets
`(resources, cfg)` and yields `(message, urn)`. Config is the policy's schema
defaults overlaid with what the engine sent (the engine also fills defaults, but
direct callers may not).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from .model import Res, from_args, stack_resources

ENVIRONMENTS = ["dev", "prod"]


class NotApplicable(Exception):
    """Raised by a check that does not apply (e.g. a prod-only rule in dev)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def schema(required: Optional[list[str]] = None, **properties: dict) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=properties, required=required)


def string_list(default: list[str], description: str) -> dict:
    return {"type": "array", "items": {"type": "string"}, "default": default, "description": description}


ENVIRONMENT_PROPS = {
    "environment": {
        "type": "string",
        "enum": ENVIRONMENTS,
        "default": "prod",
        "description": "The environment this preview targets (set per stack in policies/config.<env>.json). "
        "Defaults to prod so a forgotten config file errs on the strict side.",
    },
    "enforceIn": {
        "type": "array",
        "items": {"type": "string", "enum": ENVIRONMENTS},
        "default": ["prod"],
        "description": "Environments in which this rule applies.",
    },
}


def config_of(args: Any, config_schema: Optional[PolicyConfigSchema]) -> dict:
    cfg: dict = {}
    if config_schema is not None:
        for key, prop in (config_schema.properties or {}).items():
            if isinstance(prop, dict) and "default" in prop:
                cfg[key] = prop["default"]
    try:
        given = args.get_config() or {}
    except AttributeError:
        given = {}
    cfg.update(dict(given))
    return cfg


def require_environment(cfg: dict) -> None:
    env = cfg.get("environment", "prod")
    if env not in cfg.get("enforceIn", ["prod"]):
        raise NotApplicable(f"applies only in {cfg.get('enforceIn')}; this preview is configured as environment '{env}'")


ResourceCheck = Callable[[Res, dict], Iterable[str]]
StackCheck = Callable[[list[Res], dict], Iterable[tuple[str, Optional[str]]]]


def resource_policy(
    name: str,
    description: str,
    check: ResourceCheck,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config_schema: Optional[PolicyConfigSchema] = None,
    remediate: Optional[Callable[[Any, dict], Any]] = None,
    remediation_steps: Optional[str] = None,
) -> ResourceValidationPolicy:
    def validate(args, report_violation):
        cfg = config_of(args, config_schema)
        try:
            messages = list(check(from_args(args), cfg))
        except NotApplicable as na:
            args.not_applicable(na.reason)
            return
        for message in messages:
            report_violation(message, args.urn)

    remediate_fn = None
    if remediate is not None:
        def remediate_fn(args):  # noqa: E306 - closure over config_schema
            return remediate(args, config_of(args, config_schema))

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
        remediate=remediate_fn,
        remediation_steps=remediation_steps,
    )


def stack_policy(
    name: str,
    description: str,
    check: StackCheck,
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config_schema: Optional[PolicyConfigSchema] = None,
    remediation_steps: Optional[str] = None,
) -> StackValidationPolicy:
    def validate(args, report_violation):
        cfg = config_of(args, config_schema)
        try:
            found = list(check(stack_resources(args), cfg))
        except NotApplicable as na:
            args.not_applicable(na.reason)
            return
        for message, urn in found:
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=config_schema,
        remediation_steps=remediation_steps,
    )
