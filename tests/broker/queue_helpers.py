"""The queue plan of the async fixture agents, provisioned onto a real broker for the behaviour
tests, the checkpoint worker (tests/broker/checkpoint_worker.py) and scripts/bench_queue.py.

`provision` is what the stack's queue provider will do, reduced to the admin calls
(rocketmq_admin): every topic, group, user and ACL of the plan. It is a test helper, not the
provider: it creates, it never updates or deletes.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Iterable

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import yaml  # noqa: E402

from models.agent_spec import load_agent_specs  # noqa: E402
from models.settings import parse_stack_config  # noqa: E402
from render.queue_plan import QueuePlan, queue_plan  # noqa: E402
from rocketmq_provider.credentials import derive_password  # noqa: E402
from rocketmq_admin import (AclEntry, AclSpec, GroupSpec, RetryPolicy, RocketMQAdmin,  # noqa: E402
                            TopicSpec, UserSpec)

FIXTURE_AGENTS = _ROOT / "tests" / "fixtures" / "async-agents"
TEST_SEED = "behaviour-tests-credential-seed-0123456789"


def fixture_plan(namesrv_addr: str, seed: str = TEST_SEED, agents_dir: Path = FIXTURE_AGENTS) -> QueuePlan:
    """The plan of the fixture agents under the dev stack's config with the queue enabled."""
    config = yaml.safe_load((_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("agent-runtime:")}
    raw["messageQueue"] = {"enabled": True, "admin": {"namesrvAddr": namesrv_addr}}
    raw["messageQueueAdminPassword"] = "behaviour-admin-password"
    raw["messageQueueCredentialSeed"] = seed
    stack, _secrets = parse_stack_config(raw)
    catalog = load_agent_specs(agents_dir, tenants=[t.name for t in stack.tenants], queue_blocker=None)
    return queue_plan(catalog, stack)


def provision(admin: RocketMQAdmin, plan: QueuePlan, seed: str) -> dict[str, str]:
    """Create the plan's topics, groups, users and ACLs; return username -> password."""
    for topic in plan.topics:
        admin.create_topic(TopicSpec(topic.name, queues=topic.queues, message_type=topic.message_type,
                                     cleanup_policy=topic.cleanup_policy))
    for group in plan.groups:
        admin.put_group(GroupSpec(group.name, max_retries=group.max_retries, retry_policy=RetryPolicy(
            kind="EXPONENTIAL", initial_ms=group.initial_ms, max_ms=group.max_ms,
            multiplier=group.multiplier)))
    passwords = {}
    for user in plan.users:
        passwords[user.username] = derive_password(seed, user.username)
        admin.create_user(UserSpec(user.username, passwords[user.username]))
        admin.create_acl(AclSpec(user.username, tuple(AclEntry(e.resource, e.actions) for e in user.entries)))
    return passwords


def wait_routed(admin: RocketMQAdmin, topics: Iterable[str], timeout: float = 30.0) -> None:
    """Until the name server routes every topic (a created topic is registered at once, but the
    client's first route query must not race it)."""
    end = time.monotonic() + timeout
    for topic in topics:
        while not admin.topic_routed(topic):
            if time.monotonic() > end:
                raise TimeoutError(f"topic {topic} not routed after {timeout} s")
            time.sleep(0.2)


def quiet_client_logs() -> None:
    """The official client logs every heartbeat at INFO; keep its errors only."""
    logging.getLogger("rocketmq-python-client").setLevel(logging.ERROR)
