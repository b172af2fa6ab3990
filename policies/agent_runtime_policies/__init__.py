"""Agent Runtime policy pack: the platform's security and reliability rules.

Importing this module has no side effects; `build_pack()` constructs the
`PolicyPack`, which starts pulumi-policy's analyzer server and blocks (only the
pack's `__main__.py` calls it). Tests use `POLICIES` directly or drive
`pulumi_policy.policy._PolicyAnalyzerServicer` built from them.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy, PolicyPack

from . import platform, queue_access, stack, workloads

PACK_NAME = "agent-runtime-policies"
PACK_DESCRIPTION = "Security and reliability rules of the Agent Runtime platform (Nacos, Higress, tenants, agents, sandboxes)."

POLICIES: list[Policy] = [*workloads.POLICIES, *platform.POLICIES, *stack.POLICIES, *queue_access.POLICIES]

_names = [p.name for p in POLICIES]
assert len(_names) == len(set(_names)), f"duplicate policy names: {_names}"


def build_pack() -> PolicyPack:
    """Start the analyzer for the engine (blocks until the engine stops it)."""
    return PolicyPack(
        name=PACK_NAME,
        policies=POLICIES,
        enforcement_level=EnforcementLevel.MANDATORY,
        description=PACK_DESCRIPTION,
    )
