"""The message queue, run for real: the engine provisions the async agents' topics, groups and users
on a real RocketMQ 5.3.3 and their credentials in the API server; faults fail clearly; destroy removes all.

The stack is the e2e stack plus `messageQueue` and the async fixture agents
(tests/fixtures/async-agents: summarizer takes tasks, requester and analyst call it). Every check
reads the broker (rocketmq_admin, the official Python client), the API server (kubectl) or Nacos,
never Pulumi's outputs; what the broker must hold comes from the program's own queue plan.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, E2EStack, Run

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from models.settings import parse_stack_config  # noqa: E402
from models.stack_agents import load_stack_agents  # noqa: E402
from render.queue_plan import QueuePlan, queue_plan  # noqa: E402
from rocketmq_admin import RocketMQAdmin, TopicSpec  # noqa: E402
from rocketmq_provider.credentials import derive_password  # noqa: E402

SUMMARIZE = "research_summarizer_tasks_summarize-v1"


def assert_ok(run: Run) -> None:
    assert run.code == 0, run.output[-6000:]
    assert not run.violations, run.violations


def plan_of(e2e: E2EStack) -> QueuePlan:
    """What the program declares, computed from the stack file and agents exactly as the program does."""
    raw = {k.split(":", 1)[1]: v for k, v in e2e.stack_config().items() if k.startswith(f"{PROJECT}:")}
    raw = {k: v for k, v in raw.items() if not isinstance(v, dict) or "secure" not in v}
    # stand-ins for the secrets (the plan does not depend on them)
    raw.update(messageQueueAdminPassword="x" * 16, messageQueueCredentialSeed="x" * 32, registryPassword="x" * 16)
    stack, secrets = parse_stack_config({k: v for k, v in raw.items() if k != "agentSecrets"})
    return queue_plan(load_stack_agents(stack, e2e.project_dir), stack)


def admin(e2e: E2EStack) -> RocketMQAdmin:
    broker = e2e.queue
    return RocketMQAdmin(broker.namesrv_addr, broker.cluster, broker.admin_user, broker.admin_password)


def seed(e2e: E2EStack) -> str:
    return e2e.run_cli("config", "get", f"{PROJECT}:messageQueueCredentialSeed").strip()


def acl_entries(client: RocketMQAdmin, username: str) -> set[tuple[str, tuple[str, ...]]]:
    acl = client.get_acl(username) or {}
    return {
        (e["resource"], tuple(sorted(e["actions"])))
        for p in acl.get("policies") or []
        for e in p.get("entries") or []
    }


def secret_data(e2e: E2EStack, namespace: str, name: str) -> dict[str, str]:
    secret = e2e.get("secret", name, namespace)
    assert secret is not None, f"Secret {namespace}/{name} is missing"
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


@pytest.fixture(scope="module")
def queued(queue_e2e):
    run = queue_e2e.run("up")
    assert_ok(run)
    return {"up": run, "plan": plan_of(queue_e2e)}


def test_up_provisions_what_the_plan_declares_on_the_broker(queue_e2e, queued):
    plan: QueuePlan = queued["plan"]
    assert {t.name for t in plan.topics} >= {SUMMARIZE, "research_summarizer_checkpoints", "retail_requester_results"}
    with admin(queue_e2e) as client:
        for topic in plan.topics:
            held = client.get_topic(topic.name)
            assert held == TopicSpec(topic.name, topic.queues, topic.message_type, topic.cleanup_policy), topic.name
            assert client.topic_routed(topic.name), f"{topic.name}: the name server does not route it"
        for group in plan.groups:
            held = client.get_group(group.name)
            assert held is not None and held.max_retries == group.max_retries, group.name
            assert (held.retry_policy.initial_ms, held.retry_policy.max_ms) == (group.initial_ms, group.max_ms)
        for user in plan.users:
            assert client.get_user(user.username) is not None, user.username
            assert acl_entries(client, user.username) == {(e.resource, tuple(sorted(e.actions))) for e in user.entries}


def test_each_agent_gets_its_derived_credential_in_its_own_tenant(queue_e2e, queued):
    value = seed(queue_e2e)
    for user in queued["plan"].users:
        data = secret_data(queue_e2e, f"tenant-{user.tenant}", f"{user.agent}-queue")
        assert data == {"username": user.username, "password": derive_password(value, user.username)}
    # the credential reaches the pods as a mounted file, named in env; never the value itself
    deployment = queue_e2e.get("deployment", "summarizer-v1-0-0", "tenant-research")
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["AGENT_QUEUE_USERNAME"] == "research_summarizer"
    assert env["AGENT_QUEUE_PASSWORD_FILE"].startswith("/etc/agent-credentials/")
    sources = [s["secret"]["name"] for v in pod["volumes"] if "projected" in v for s in v["projected"]["sources"]]
    assert "summarizer-queue" in sources
    assert value not in json.dumps(deployment)


def test_no_queue_secret_in_plain_text_in_state_configmaps_or_output(queue_e2e, queued):
    value = seed(queue_e2e)
    secrets = [value, queue_e2e.queue.admin_password, *(derive_password(value, u.username) for u in queued["plan"].users)]
    state_text = "".join(p.read_text(errors="replace") for p in queue_e2e.state_dir.rglob("*") if p.is_file())
    configmaps = queue_e2e.kubectl("get", "configmaps", "-A", "-o", "json").stdout
    for secret in secrets:
        assert secret not in state_text, "a queue secret is in the Pulumi state in plain text"
        assert secret not in configmaps, "a queue secret is in a ConfigMap"
        assert secret not in queued["up"].output, "a queue secret was printed"


def test_the_agent_card_in_nacos_advertises_the_async_interface(queue_e2e, queued):
    status, body = queue_e2e.nacos.request(
        "GET", "/v3/admin/ai/a2a", {"namespaceId": "tenant-research", "agentName": "summarizer"}
    )
    assert status == 200, body
    card = body["data"]
    interfaces = {i["transport"]: i["url"] for i in card.get("additionalInterfaces") or []}
    assert interfaces.get("ROCKETMQ", "").startswith("rocketmq://"), card
    params = card["capabilities"]["extensions"][0]["params"]
    assert params["taskTopics"] == {"summarize-v1": SUMMARIZE, "deep-dive": "research_summarizer_tasks_deep-dive"}


def _publish(e2e: E2EStack, username: str, password: str, topic: str, timeout: float = 20.0) -> str:
    """Publish one task with the official client as `username`; returns the message id."""
    from rocketmq import ClientConfiguration, Credentials, Message, Producer

    producer = Producer(ClientConfiguration(e2e.queue.proxy_endpoint, Credentials(username, password), request_timeout=5), (topic,))
    producer.startup()
    try:
        message = Message()
        message.topic = topic
        message.body = b'{"task": "summarize", "document": "e2e"}'
        message.keys = "task-e2e-1"
        return producer.send(message).message_id
    finally:
        producer.shutdown()


def test_the_callers_credential_from_the_secret_publishes_a_task_the_worker_receives(queue_e2e, queued):
    from rocketmq import ClientConfiguration, Credentials, FilterExpression, SimpleConsumer

    requester = secret_data(queue_e2e, "tenant-retail", "requester-queue")
    worker = secret_data(queue_e2e, "tenant-research", "summarizer-queue")
    message_id = _publish(queue_e2e, requester["username"], requester["password"], SUMMARIZE)
    consumer = SimpleConsumer(
        ClientConfiguration(queue_e2e.queue.proxy_endpoint, Credentials(worker["username"], worker["password"]), request_timeout=5),
        "research_summarizer_workers",
        {SUMMARIZE: FilterExpression()},
    )
    consumer.startup()
    try:
        received = []
        for _ in range(20):
            received += consumer.receive(16, 15) or []
            if any(m.message_id == message_id for m in received):
                break
        assert any(m.message_id == message_id for m in received), [m.message_id for m in received]
        for m in received:
            consumer.ack(m)
    finally:
        consumer.shutdown()


def test_second_preview_has_nothing_to_do(queue_e2e, queued):
    assert_ok(queue_e2e.run("preview", "--expect-no-changes"))


def test_refresh_shows_a_topic_changed_behind_the_stacks_back(queue_e2e, queued):
    with admin(queue_e2e) as client:
        held = client.get_topic(SUMMARIZE)
        client.update_topic(TopicSpec(SUMMARIZE, held.queues + 4, held.message_type, held.cleanup_policy))
    refreshed = queue_e2e.run("refresh")
    assert refreshed.code == 0, refreshed.output[-4000:]
    changed = [urn for urn, op in refreshed.changes.items() if SUMMARIZE in urn]
    assert changed, f"refresh did not report the drift of {SUMMARIZE}: {refreshed.changes}"
    # the next up puts the declared settings back
    assert_ok(queue_e2e.run("up"))
    with admin(queue_e2e) as client:
        assert client.get_topic(SUMMARIZE).queues == held.queues
    assert_ok(queue_e2e.run("preview", "--expect-no-changes"))


def _add_skill(spec: dict) -> None:
    spec["a2aSkills"].append({"id": "translate-v1", "name": "Translate", "description": "Translate a document."})


def test_a_pre_existing_topic_with_other_settings_is_refused_by_name_and_left_alone(queue_e2e, queued):
    taken = "research_summarizer_tasks_translate-v1"
    foreign = TopicSpec(taken, queues=2, message_type="FIFO")
    with admin(queue_e2e) as client:
        client.create_topic(foreign)
    queue_e2e.edit_agent("summarizer", _add_skill)
    failed = queue_e2e.run("up")
    assert failed.code != 0
    assert f"topic {taken} already exists with other settings" in failed.output, failed.output[-4000:]
    assert "Traceback" not in failed.output
    with admin(queue_e2e) as client:
        assert client.get_topic(taken) == foreign  # never changed
        client.delete_topic(taken)
    assert_ok(queue_e2e.run("up"))
    with admin(queue_e2e) as client:
        assert client.get_topic(taken) == TopicSpec(taken, queues=4)
    assert_ok(queue_e2e.run("preview", "--expect-no-changes"))


def test_wrong_admin_credentials_fail_clearly_and_change_nothing(queue_e2e, queued):
    right = queue_e2e.queue.admin_password
    queue_e2e.run_cli("config", "set", "--secret", f"{PROJECT}:messageQueueAdminPassword", input="wrong-password-0123456789")
    # a change the provider must make on the broker (a group's retries)
    queue_e2e.edit_agent("summarizer", lambda spec: spec["async"]["retry"].update(maxRetries=3))
    try:
        failed = queue_e2e.run("up")
    finally:
        queue_e2e.run_cli("config", "set", "--secret", f"{PROJECT}:messageQueueAdminPassword", input=right)
    assert failed.code != 0
    assert "check signature failed" in failed.output, failed.output[-4000:]
    assert "Traceback" not in failed.output
    with admin(queue_e2e) as client:
        assert client.get_group("research_summarizer_workers").max_retries == 2  # untouched by the failed up
    assert_ok(queue_e2e.run("up"))
    with admin(queue_e2e) as client:
        assert client.get_group("research_summarizer_workers").max_retries == 3
    assert_ok(queue_e2e.run("preview", "--expect-no-changes"))


def test_broker_down_during_up_fails_naming_it_and_a_rerun_converges(queue_e2e, queued):
    broker = queue_e2e.queue
    queue_e2e.edit_agent("summarizer", lambda spec: spec["async"]["retry"].update(maxRetries=4))
    broker.stop()
    try:
        failed = queue_e2e.run("up")
    finally:
        broker.start(broker.build)
    assert failed.code != 0
    assert broker.namesrv_addr in failed.output, failed.output[-4000:]
    assert "Traceback" not in failed.output
    assert_ok(queue_e2e.run("up"))
    with admin(queue_e2e) as client:
        assert client.get_group("research_summarizer_workers").max_retries == 4
    assert_ok(queue_e2e.run("preview", "--expect-no-changes"))


def test_destroy_leaves_no_topic_group_user_or_credential(queue_e2e, queued):
    plan = plan_of(queue_e2e)
    assert_ok(queue_e2e.run("destroy"))
    with admin(queue_e2e) as client:
        assert [t.name for t in plan.topics if client.get_topic(t.name) is not None] == []
        assert [t.name for t in plan.topics if client.topic_routed(t.name)] == []
        assert [g.name for g in plan.groups if client.get_group(g.name) is not None] == []
        assert [u.username for u in plan.users if client.get_user(u.username) is not None] == []
    for user in plan.users:
        assert queue_e2e.get("secret", f"{user.agent}-queue", f"tenant-{user.tenant}") is None
