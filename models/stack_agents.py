"""The agents a stack deploys: the spec files it selects, checked against its tenants, profiles and objects.

Read once, before any resource exists, by the program and by scripts/check.py alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from models.agent_spec import AgentCatalog, ProvidedObjects, load_agent_specs
from models.settings import PlatformSecrets, StackConfig


def provided_objects(stack: StackConfig, secrets: PlatformSecrets) -> ProvidedObjects:
    """The Secrets and ConfigMaps agents may read: supplied by the stack (with their keys) or listed as external."""
    supplied_secrets = {(t, n): frozenset(data) for t, by_name in secrets.agent_secret_data().items() for n, data in by_name.items()}
    supplied_maps = {(t, n): frozenset(data) for t, by_name in stack.agents.config_maps.items() for n, data in by_name.items()}
    external = lambda refs: {tuple(r.split("/", 1)): None for r in refs}  # noqa: E731 - any key
    return ProvidedObjects(
        secrets={**external(stack.agents.external_secrets), **supplied_secrets},
        config_maps={**external(stack.agents.external_config_maps), **supplied_maps},
    )


def load_stack_agents(stack: StackConfig, project_dir: str | Path, secrets: Optional[PlatformSecrets] = None) -> AgentCatalog:
    """The agent specs the stack selects, checked against its tenants, profiles and the objects it provides."""
    directory = Path(stack.agents.directory)
    if not directory.is_absolute():
        directory = Path(project_dir) / directory
    return load_agent_specs(
        directory,
        tenants=[t.name for t in stack.tenants],
        sandbox_profiles=[p.name for p in stack.sandbox_profiles],
        scale_to_zero_blocker=scale_to_zero_blocker(stack),
        include=stack.agents.include,
        mcp_include=stack.agents.mcp_include,
        provided=provided_objects(stack, secrets) if secrets is not None else None,
        queue_blocker=queue_blocker(stack),
    )


def scale_to_zero_blocker(stack: StackConfig) -> Optional[str]:
    """Why agents of this stack could not be woken from zero replicas, or None."""
    if not stack.agents.keda.enabled:
        return "needs KEDA: set agents.keda.enabled in the stack config"
    if not (stack.gateway.metrics or stack.security.monitoring.prometheus_operator):
        # the ScaledObject wakes the agent from the gateway's request counts in Prometheus
        return (
            "needs the gateway's request metrics in Prometheus (KEDA wakes the agent from them): "
            "set gateway.metrics or security.monitoring.prometheusOperator in the stack config"
        )
    return None


def queue_blocker(stack: StackConfig) -> Optional[str]:
    """Why agents of this stack could not take tasks through a message queue, or None."""
    if not stack.message_queue.enabled:
        return "needs the stack's message queue: set messageQueue.enabled in the stack config"
    if not stack.message_queue.admin.namesrv_addr:
        return (
            "needs messageQueue.admin.namesrvAddr in the stack config: the address this machine reaches the queue's "
            "name server at, so `pulumi up` can create the agent's topics, group and user"
        )
    return None
