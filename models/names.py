"""Names derived from spec values, shared by every object that carries them (routes, queue topics)."""

from __future__ import annotations

import re


def skill_slug(skill_id: str) -> str:
    """A skill id as part of a Kubernetes object or RocketMQ topic name ('.' and '_' are not allowed in every name).

    One definition: the spec check that refuses skill ids with equal slugs protects the gateway
    routes and the task topics alike only while both use this function."""
    return re.sub(r"[^a-z0-9-]+", "-", skill_id).strip("-")
