"""Names of an agent's message-queue resources (RocketMQ topics, consumer groups, users).

One place, so the spec check (is the name valid?), the queue plan, the policies and the agent's
environment agree. Tenants and agents are DNS labels and skill slugs use only [a-z0-9-], so the
'_' separator makes every name unambiguous: `<tenant>_<agent>_<kind>`.
"""

from __future__ import annotations

import re
from typing import Optional

from models.names import skill_slug

# what RocketMQ 5.3 accepts for topics, groups and users (its own %RETRY%/%DLQ% names aside)
MAX_NAME = 127
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def owner(tenant: str, agent: str) -> str:
    """The prefix of everything the agent owns, and the name of its queue user."""
    return f"{tenant}_{agent}"


def task_topic(tenant: str, agent: str, skill_id: str) -> str:
    """Where callers the skill admits publish tasks for it."""
    return f"{owner(tenant, agent)}_tasks_{skill_slug(skill_id)}"


def results_topic(tenant: str, agent: str) -> str:
    """The agent's own inbox: the agents it calls asynchronously publish their results here."""
    return f"{owner(tenant, agent)}_results"


def checkpoints_topic(tenant: str, agent: str) -> str:
    """The agent's compacted checkpoint store, keyed by task id."""
    return f"{owner(tenant, agent)}_checkpoints"


def worker_group(tenant: str, agent: str) -> str:
    """The consumer group the agent's workers take tasks with (its retry policy, its dead letters)."""
    return f"{owner(tenant, agent)}_workers"


def results_group(tenant: str, agent: str) -> str:
    """The consumer group the agent reads its result inbox with."""
    return f"{owner(tenant, agent)}_results"


def dead_letter_group(tenant: str, agent: str) -> str:
    """The consumer group an operator replays the agent's dead letters with (the worker group
    cannot read them: the proxy sends a message it already retried too often back to the DLQ)."""
    return f"{owner(tenant, agent)}_deadletters"


def dead_letter_topic(group: str) -> str:
    """Where RocketMQ parks a group's messages after their last retry."""
    return f"%DLQ%{group}"


def name_problem(name: str) -> Optional[str]:
    """Why RocketMQ would refuse the name, or None."""
    if len(name) > MAX_NAME:
        return f"{name!r} is {len(name)} characters; RocketMQ allows {MAX_NAME} (shorten the tenant, agent or skill id)"
    if not _NAME.match(name):
        return f"{name!r} has characters RocketMQ refuses (it allows A-Z a-z 0-9 _ -)"
    return None
