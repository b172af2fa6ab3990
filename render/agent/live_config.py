"""Live configuration: where an agent version's runtime configuration lives in Nacos, and who may read it.

Each version's behaviour (prompt, model parameters, tools, skills) is one JSON configuration
item in its tenant's Nacos namespace; its pods subscribe to it with a read-only Nacos user
of the agent's own, whose password reaches them as a file like every other credential.
A change to the item is pushed to running pods: nothing rolls.
"""

from __future__ import annotations

import hashlib
import json

from models.agent_spec import AgentSpec, KeyRef, ResolvedVersion

GROUP = "agent-runtime"
PASSWORD_KEY = "password"
PASSWORD_FILE = "nacos-password"
# Nacos usernames are limited in length; tenant and agent names are DNS labels of up to 63 each
MAX_USERNAME = 64


def data_id(spec: AgentSpec, version: ResolvedVersion) -> str:
    """`<agent>_<version>.json`: agent names never hold '_', so one agent's ids never prefix another's."""
    return f"{spec.name}_{version.version}.json"


def reader_username(spec: AgentSpec) -> str:
    """The agent's own Nacos user: readable, unique per tenant and agent, within Nacos's length limit."""
    name = f"agent-{spec.tenant}-{spec.name}"
    if len(name) <= MAX_USERNAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_USERNAME - 9]}-{digest}"


def reader_secret(spec: AgentSpec) -> KeyRef:
    """The Secret (in the tenant namespace) holding the reader's password, created by the stack."""
    return KeyRef(name=f"{spec.name}-nacos-reader", key=PASSWORD_KEY)


def reader_resource(nacos_namespace_id: str) -> str:
    """What the reader may read: its tenant namespace's configuration.

    Not narrower: Nacos 3.1 authorizes an SDK's batch listen only for `<ns>:*:config/*`
    (docs/nacos-api-observed.md); the items hold no secret.
    """
    return f"{nacos_namespace_id}:*:config/*"


def item_content(document: dict) -> str:
    """The item's content: stable JSON, so an unchanged document never shows as a change."""
    return json.dumps(document, indent=2, sort_keys=True)
