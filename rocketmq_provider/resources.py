"""Pulumi resources for RocketMQ topics, consumer groups and agents' users, served by provider.py."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pulumi
from pulumi.dynamic import Resource

from rocketmq_provider.provider import QueueConsumerGroupProvider, QueueTopicProvider, QueueUserProvider


class QueueTopic(Resource):
    """A topic an agent receives tasks on, or publishes results or checkpoints to.

    ``topic`` and ``cleanup_policy`` replace the topic when changed (the broker cannot change a
    cleanup policy); ``queues`` and ``message_type`` change in place. ``tenant``, ``agent``,
    ``kind`` (tasks|results|checkpoints) and ``accepts_from`` ("tenant/agent" callers allowed to
    publish; read by the policies, not sent to the broker) describe it."""

    def __init__(
        self,
        name: str,
        topic: pulumi.Input[str],
        queues: pulumi.Input[int] = 4,
        message_type: pulumi.Input[str] = "NORMAL",
        cleanup_policy: pulumi.Input[str] = "DELETE",
        tenant: Optional[pulumi.Input[str]] = None,
        agent: Optional[pulumi.Input[str]] = None,
        kind: Optional[pulumi.Input[str]] = None,
        accepts_from: Optional[Sequence[pulumi.Input[str]]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "queueKind": "Topic",
            "topic": topic,
            "queues": queues,
            "messageType": message_type,
            "cleanupPolicy": cleanup_policy,
            "tenant": tenant,
            "agent": agent,
            "kind": kind,
            "acceptsFrom": list(accepts_from or []),
        }
        super().__init__(QueueTopicProvider(), name, props, opts)


class QueueConsumerGroup(Resource):
    """A consumer group: ``max_retries`` redeliveries (then %DLQ%<group>), the back-off between
    them (``retry_policy``: {kind: EXPONENTIAL, initialMs, maxMs, multiplier} or
    {kind: CUSTOMIZED, nextMs: [...]}) and FIFO consumption (``orderly``)."""

    def __init__(
        self,
        name: str,
        group: pulumi.Input[str],
        max_retries: pulumi.Input[int] = 16,
        retry_policy: Optional[dict[str, Any]] = None,
        orderly: pulumi.Input[bool] = False,
        tenant: Optional[pulumi.Input[str]] = None,
        agent: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "queueKind": "ConsumerGroup",
            "group": group,
            "maxRetries": max_retries,
            "retryPolicy": retry_policy or {"kind": "EXPONENTIAL", "initialMs": 1000, "maxMs": 60000, "multiplier": 2},
            "orderly": orderly,
            "tenant": tenant,
            "agent": agent,
        }
        super().__init__(QueueConsumerGroupProvider(), name, props, opts)


class QueueUser(Resource):
    """An agent's RocketMQ (ACL 2.0) user and its ACL ``entries`` ([{resource, actions, decision}]).

    Its password is never an input or output: the provider derives it from the stack secret
    ``messageQueueCredentialSeed`` (rocketmq_provider.credentials.derive_password(seed, username,
    credential_version)), and the program writes the same derived value, as a Pulumi secret,
    into the agent's Kubernetes Secret. Raise ``credential_version`` to rotate it."""

    def __init__(
        self,
        name: str,
        username: pulumi.Input[str],
        entries: Sequence[dict[str, Any]],
        tenant: Optional[pulumi.Input[str]] = None,
        agent: Optional[pulumi.Input[str]] = None,
        credential_version: pulumi.Input[int] = 1,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        props = {
            "queueKind": "User",
            "username": username,
            "entries": [dict(e) for e in entries],
            "tenant": tenant,
            "agent": agent,
            "credentialVersion": credential_version,
        }
        super().__init__(QueueUserProvider(), name, props, opts)
