"""The labels and selectors of an agent's objects: the agent's own, and each version's."""

from __future__ import annotations

from models.agent_spec import AgentSpec, ResolvedVersion
from render.k8s_common import LABEL_AGENT, LABEL_TENANT, selector_labels, standard_labels

COMPONENT = "agent"
LABEL_VERSION = "agent-runtime.io/version"


def agent_labels(spec: AgentSpec, stack_labels: dict[str, str]) -> dict[str, str]:
    """On every object of the agent: the standard labels, its name and tenant, and the stack's labels."""
    return standard_labels(spec.name, COMPONENT, {LABEL_AGENT: spec.name, LABEL_TENANT: spec.tenant, **stack_labels})


def agent_selector(spec: AgentSpec) -> dict[str, str]:
    """Every pod of the agent, whatever its version."""
    return selector_labels(spec.name, COMPONENT)


def version_labels(agent: dict[str, str], version: ResolvedVersion) -> dict[str, str]:
    return {**agent, LABEL_VERSION: version.version}


def version_selector(spec: AgentSpec, version: ResolvedVersion) -> dict[str, str]:
    """The pods of one version (a version's Deployment and Service select them)."""
    return {**agent_selector(spec), LABEL_VERSION: version.version}
