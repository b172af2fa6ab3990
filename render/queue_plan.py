"""What the message queue must hold for a stack's agents: topics, consumer groups, users and their ACLs.

Pure translation of the agent catalog (no Pulumi, no broker): the queue components turn it into
provider resources, the policies check it, the tests compare the broker against it.

Isolation follows the A2A rules the gateway routes follow (`AgentCatalog.skill_callers`, each call
already checked against the skill's access rule):
- an `async` agent's tasks come in per skill, on `<tenant>_<agent>_tasks_<skill>`; only the agents
  the skill admits may publish there, only the agent itself consumes (its worker group);
- results go back to the caller's own inbox, `<tenant>_<caller>_results`: only the caller reads it,
  and only the agents it calls asynchronously may publish to it (a shared results topic would let
  every caller read every other caller's results, across tenants);
- checkpoints, `<tenant>_<agent>_checkpoints`, a compacted topic keyed by task id: the agent alone;
- dead letters, `%DLQ%<tenant>_<agent>_workers` (the broker creates it at the first dead letter):
  the agent's own user reads them with its `<tenant>_<agent>_deadletters` group to replay them.

What a real RocketMQ 5.3.3 needs was checked in tests/broker/test_queue_behaviour.py
(docs/rocketmq-observed.md, "Behaviour of the plan").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from models import queue_names
from models.agent_spec import AgentCatalog, AgentSpec
from models.settings import StackConfig

TASKS, RESULTS, CHECKPOINTS = "tasks", "results", "checkpoints"
PUB, SUB = "Pub", "Sub"
# remoting QUERY_MESSAGE (a task's checkpoints by key) is authorized as Sub or Get on the topic;
# Get alone, so the worker group cannot also consume the checkpoints as if they were tasks
GET = "Get"
# redeliveries the dead-letter group allows: the proxy returns a message only while its
# reconsume count is below the group's attempts, and a dead letter already carries max_retries + 1
DEAD_LETTER_GROUP_RETRIES = 16


@dataclass(frozen=True)
class TopicPlan:
    name: str
    tenant: str
    agent: str
    kind: str  # tasks | results | checkpoints
    queues: int
    message_type: str = "NORMAL"
    cleanup_policy: str = "DELETE"
    skill: Optional[str] = None  # the skill a task topic takes tasks for
    # "<tenant>/<agent>" of the agents that may publish here besides its owner
    accepts_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupPlan:
    name: str
    tenant: str
    agent: str
    max_retries: int
    initial_ms: int
    max_ms: int
    multiplier: int


@dataclass(frozen=True)
class AclEntryPlan:
    resource: str  # Topic:<name> or Group:<name>
    actions: tuple[str, ...]


@dataclass(frozen=True)
class UserPlan:
    username: str
    tenant: str
    agent: str
    entries: tuple[AclEntryPlan, ...]


@dataclass(frozen=True)
class AgentQueueAccess:
    """What one agent's pods are told (env): its user and the topics and groups it uses."""

    username: str
    task_topics: dict[str, str] = field(default_factory=dict)  # own skill id -> topic (async agents)
    worker_group: Optional[str] = None
    dead_letter_group: Optional[str] = None  # replays %DLQ%<worker_group>
    checkpoints_topic: Optional[str] = None
    results_topic: Optional[str] = None  # own inbox (callers of async agents)
    results_group: Optional[str] = None
    calls: dict[str, str] = field(default_factory=dict)  # "<agent>/<skill>" it calls -> task topic
    concurrency: Optional[int] = None
    task_timeout_seconds: Optional[int] = None
    max_retries: Optional[int] = None

    def to_env(self) -> dict:
        """The non-secret part, as the JSON the agent runtime reads from AGENT_QUEUE."""
        out = {
            "username": self.username,
            "taskTopics": self.task_topics,
            "workerGroup": self.worker_group,
            "deadLetterGroup": self.dead_letter_group,
            "checkpointsTopic": self.checkpoints_topic,
            "resultsTopic": self.results_topic,
            "resultsGroup": self.results_group,
            "calls": self.calls,
            "concurrency": self.concurrency,
            "taskTimeoutSeconds": self.task_timeout_seconds,
            "maxRetries": self.max_retries,
        }
        return {k: v for k, v in out.items() if v not in (None, {}, [])}


@dataclass(frozen=True)
class QueuePlan:
    topics: tuple[TopicPlan, ...] = ()
    groups: tuple[GroupPlan, ...] = ()
    users: tuple[UserPlan, ...] = ()
    access: dict[str, AgentQueueAccess] = field(default_factory=dict)  # agent name -> its access

    @property
    def empty(self) -> bool:
        return not self.users


def _label(spec: AgentSpec) -> str:
    return f"{spec.tenant}/{spec.name}"


def async_calls(catalog: AgentCatalog, caller: AgentSpec) -> list[tuple[AgentSpec, str]]:
    """The (async target, skill id) pairs `caller` calls, in its a2aCalls order."""
    out = []
    for call in caller.a2a_calls:
        target = catalog.agent(call.agent)
        if target.async_ is not None:
            out.append((target, call.skill))
    return out


def queue_plan(catalog: AgentCatalog, stack: StackConfig) -> QueuePlan:
    """Every topic, group and user the stack's async agents and their callers need."""
    queues = stack.message_queue.queues_per_topic
    topics: list[TopicPlan] = []
    groups: list[GroupPlan] = []
    users: list[UserPlan] = []
    access: dict[str, AgentQueueAccess] = {}
    callers_of_async = {c.name for a in catalog.agents if a.async_ is not None for c in catalog.callers_of(a.name)}
    for spec in catalog.agents:
        is_async = spec.async_ is not None
        calls = async_calls(catalog, spec)
        if not is_async and not calls:
            continue
        entries: list[AclEntryPlan] = []
        task_topics: dict[str, str] = {}
        worker = dead_letters = checkpoints = results = results_group = None
        if is_async:
            settings = spec.async_
            assert settings is not None
            skill_callers = catalog.skill_callers(spec.name)
            for skill in spec.a2a_skills:
                topic = queue_names.task_topic(spec.tenant, spec.name, skill.id)
                task_topics[skill.id] = topic
                topics.append(TopicPlan(
                    topic, spec.tenant, spec.name, TASKS, queues, skill=skill.id,
                    accepts_from=tuple(sorted(_label(c) for c in skill_callers.get(skill.id, []))),
                ))
                entries.append(AclEntryPlan(f"Topic:{topic}", (SUB,)))
            worker = queue_names.worker_group(spec.tenant, spec.name)
            backoff = settings.retry.backoff
            groups.append(GroupPlan(
                worker, spec.tenant, spec.name, settings.retry.max_retries,
                backoff.initial_seconds * 1000, backoff.max_seconds * 1000, backoff.multiplier,
            ))
            entries.append(AclEntryPlan(f"Group:{worker}", (SUB,)))
            if settings.checkpoints:
                checkpoints = queue_names.checkpoints_topic(spec.tenant, spec.name)
                topics.append(TopicPlan(checkpoints, spec.tenant, spec.name, CHECKPOINTS, queues, cleanup_policy="COMPACTION"))
                entries.append(AclEntryPlan(f"Topic:{checkpoints}", (PUB, GET)))
            # dead letters: the owner replays them with a group of its own (docs/rocketmq-observed.md)
            dead_letters = queue_names.dead_letter_group(spec.tenant, spec.name)
            groups.append(GroupPlan(dead_letters, spec.tenant, spec.name, DEAD_LETTER_GROUP_RETRIES,
                                    backoff.initial_seconds * 1000, backoff.max_seconds * 1000, backoff.multiplier))
            entries.append(AclEntryPlan(f"Topic:{queue_names.dead_letter_topic(worker)}", (SUB,)))
            entries.append(AclEntryPlan(f"Group:{dead_letters}", (SUB,)))
            # results go to each caller's inbox
            for caller in catalog.callers_of(spec.name):
                entries.append(AclEntryPlan(f"Topic:{queue_names.results_topic(caller.tenant, caller.name)}", (PUB,)))
        if spec.name in callers_of_async:
            results = queue_names.results_topic(spec.tenant, spec.name)
            results_group = queue_names.results_group(spec.tenant, spec.name)
            targets = sorted({_label(t) for t, _ in calls})
            topics.append(TopicPlan(results, spec.tenant, spec.name, RESULTS, queues, accepts_from=tuple(targets)))
            groups.append(GroupPlan(results_group, spec.tenant, spec.name, 3, 1000, 60000, 2))
            entries.append(AclEntryPlan(f"Topic:{results}", (SUB,)))
            entries.append(AclEntryPlan(f"Group:{results_group}", (SUB,)))
        call_topics = {}
        for target, skill in calls:
            topic = queue_names.task_topic(target.tenant, target.name, skill)
            call_topics[f"{target.name}/{skill}"] = topic
            entries.append(AclEntryPlan(f"Topic:{topic}", (PUB,)))
        username = queue_names.owner(spec.tenant, spec.name)
        users.append(UserPlan(username, spec.tenant, spec.name, tuple(_merged(entries))))
        settings = spec.async_
        access[spec.name] = AgentQueueAccess(
            username=username,
            task_topics=task_topics,
            worker_group=worker,
            dead_letter_group=dead_letters,
            checkpoints_topic=checkpoints,
            results_topic=results,
            results_group=results_group,
            calls=call_topics,
            concurrency=settings.concurrency if settings else None,
            task_timeout_seconds=settings.task_timeout_seconds if settings else None,
            max_retries=settings.retry.max_retries if settings else None,
        )
    return QueuePlan(tuple(topics), tuple(groups), tuple(users), access)


def _merged(entries: list[AclEntryPlan]) -> list[AclEntryPlan]:
    """One entry per resource (actions united), sorted: the broker keeps one policy entry per resource."""
    by_resource: dict[str, set[str]] = {}
    for e in entries:
        by_resource.setdefault(e.resource, set()).update(e.actions)
    return [AclEntryPlan(r, tuple(sorted(a))) for r, a in sorted(by_resource.items())]
