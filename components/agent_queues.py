"""AgentQueues: the message-queue side of the stack's async agents and their callers.

From the queue plan (render/queue_plan.py): every topic, consumer group and ACL 2.0 user as a
resource of the RocketMQ provider (rocketmq_provider/), so `preview` shows their diffs, `refresh`
their drift and `destroy` removes them; and per agent a Secret in its tenant's namespace with its
queue username and password, which its pods mount as a file.

The password is derived from the stack secret `messageQueueCredentialSeed`
(rocketmq_provider.credentials): the provider derives the same value when it creates the user,
so no queue resource holds a password in its inputs or outputs; only the Secret does, as a Pulumi
secret (encrypted in state).
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from render.agent.queue import PASSWORD_KEY, USERNAME_KEY, credential_secret_name
from render.k8s_common import LABEL_AGENT, standard_labels
from render.queue_plan import QueuePlan, TopicPlan, UserPlan
from rocketmq_provider import QueueConsumerGroup, QueueTopic, QueueUser
from rocketmq_provider.credentials import derive_password

LABEL_QUEUE_USER = "agent-runtime.io/queue-user"


class AgentQueuesArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    plan: QueuePlan
    namespaces: dict[str, str]  # tenant -> Kubernetes namespace
    credential_seed: str  # the stack secret; only ever leaves this component as a Pulumi secret
    # the MessageQueue: the provider's calls wait for it
    queue: Optional[pulumi.Resource] = None
    labels: dict[str, str] = {}


class AgentQueues(pulumi.ComponentResource):
    """Topics, groups and users on the queue, and each agent's credential Secret."""

    topics: dict[str, QueueTopic]
    users: dict[str, QueueUser]
    credential_secrets: dict[str, k8s.core.v1.Secret]  # agent name -> its Secret

    def __init__(self, name: str, args: AgentQueuesArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:queue:AgentQueues", name, None, opts)
        after_queue = pulumi.ResourceOptions(parent=self, depends_on=[args.queue] if args.queue else [])
        self.topics = {t.name: _topic(name, t, after_queue) for t in args.plan.topics}
        groups = {
            g.name: QueueConsumerGroup(
                f"{name}-group-{g.name}",
                group=g.name,
                max_retries=g.max_retries,
                retry_policy={"kind": "EXPONENTIAL", "initialMs": g.initial_ms, "maxMs": g.max_ms, "multiplier": g.multiplier},
                tenant=g.tenant,
                agent=g.agent,
                opts=after_queue,
            )
            for g in args.plan.groups
        }
        # a user's ACL names topics and groups: they exist first, and are deleted after it
        everything = [*self.topics.values(), *groups.values()]
        self.users = {
            u.agent: QueueUser(
                f"{name}-user-{u.username}",
                username=u.username,
                entries=[{"resource": e.resource, "actions": list(e.actions), "decision": "Allow"} for e in u.entries],
                tenant=u.tenant,
                agent=u.agent,
                opts=pulumi.ResourceOptions(parent=self, depends_on=everything),
            )
            for u in args.plan.users
        }
        self.credential_secrets = {
            u.agent: _credential_secret(self, name, u, args) for u in args.plan.users
        }
        self.register_outputs({
            "topics": sorted(self.topics),
            "groups": sorted(groups),
            "users": sorted(u.username for u in args.plan.users),
        })


def _topic(name: str, t: TopicPlan, opts: pulumi.ResourceOptions) -> QueueTopic:
    return QueueTopic(
        f"{name}-topic-{t.name}",
        topic=t.name,
        queues=t.queues,
        message_type=t.message_type,
        cleanup_policy=t.cleanup_policy,
        tenant=t.tenant,
        agent=t.agent,
        kind=t.kind,
        accepts_from=list(t.accepts_from),
        opts=opts,
    )


def _credential_secret(parent: AgentQueues, name: str, user: UserPlan, args: AgentQueuesArgs) -> k8s.core.v1.Secret:
    """The agent's queue username and password, in its tenant's namespace (mounted as files by its pods)."""
    password = pulumi.Output.secret(args.credential_seed).apply(lambda seed: derive_password(seed, user.username))
    return k8s.core.v1.Secret(
        f"{name}-credential-{user.agent}",
        metadata={
            "name": credential_secret_name(user.agent),
            "namespace": args.namespaces[user.tenant],
            "labels": standard_labels(
                user.agent, "agent", {**args.labels, LABEL_AGENT: user.agent, LABEL_QUEUE_USER: user.username}
            ),
        },
        type="Opaque",
        string_data={USERNAME_KEY: user.username, PASSWORD_KEY: password},
        opts=pulumi.ResourceOptions(parent=parent),
    )
