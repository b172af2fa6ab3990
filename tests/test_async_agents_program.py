"""Async agents through the whole program under mocks: the queue resources, credentials, wiring and policies.

The stack is the dev fixture stack with the queue on and the async fixture agents
(tests/fixtures/async-agents) next to the usual ones; what the broker must hold comes from the
queue plan, and what reaches it for real is tests/broker and tests/e2e/test_queue_real_engine.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from harness import FIXTURE_QUEUE_SECRETS, REPO, ProgramRun, agents_override, run_program

sys.path.insert(0, str(Path(__file__).resolve().parent))
from policy_cases import support as S  # noqa: E402

DYNAMIC = "pulumi-python:dynamic:Resource"
SECRET = "kubernetes:core/v1:Secret"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
QUEUE = {"enabled": True, "admin": {"namesrvAddr": "127.0.0.1:9876"}}
SEED = FIXTURE_QUEUE_SECRETS["messageQueueCredentialSeed"]


@pytest.fixture(scope="module")
def agents_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("agents")
    for source in ("agents", "async-agents"):
        shutil.copytree(REPO / "tests" / "fixtures" / source, target, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="module")
def run(agents_dir) -> ProgramRun:
    return run_program("dev", overrides={"messageQueue": QUEUE, **agents_override("dev", directory=str(agents_dir))})


def queue_resources(run: ProgramRun, kind: str) -> list:
    return [r for r in run.of_type(DYNAMIC) if r.inputs.get("queueKind") == kind]


def test_the_program_declares_what_the_plan_says(run):
    topics = {r.inputs["topic"]: r.inputs for r in queue_resources(run, "Topic")}
    assert topics["research_summarizer_tasks_summarize-v1"]["acceptsFrom"] == ["retail/requester"]
    assert topics["research_summarizer_tasks_deep-dive"]["acceptsFrom"] == ["research/analyst"]
    assert topics["research_summarizer_checkpoints"]["cleanupPolicy"] == "COMPACTION"
    assert topics["retail_requester_results"]["acceptsFrom"] == ["research/summarizer"]
    groups = {r.inputs["group"]: r.inputs for r in queue_resources(run, "ConsumerGroup")}
    assert groups["research_summarizer_workers"]["maxRetries"] == 2
    assert groups["research_summarizer_workers"]["retryPolicy"] == {"kind": "EXPONENTIAL", "initialMs": 1000, "maxMs": 2000, "multiplier": 2}
    users = {r.inputs["username"]: r.inputs for r in queue_resources(run, "User")}
    # only the async agent and its callers are on the queue
    assert set(users) == {"research_summarizer", "retail_requester", "research_analyst"}
    requester = {e["resource"]: e["actions"] for e in users["retail_requester"]["entries"]}
    assert requester == {
        "Topic:research_summarizer_tasks_summarize-v1": ["Pub"],
        "Topic:retail_requester_results": ["Sub"],
        "Group:retail_requester_results": ["Sub"],
    }


def test_no_queue_resource_holds_a_password_or_the_seed(run):
    dumped = json.dumps([r.inputs for r in run.of_type(DYNAMIC) if "queueKind" in r.inputs])
    assert SEED not in dumped and FIXTURE_QUEUE_SECRETS["messageQueueAdminPassword"] not in dumped
    assert "password" not in dumped.lower()


def test_each_credential_is_a_secret_in_its_agents_tenant(run):
    from rocketmq_provider.credentials import derive_password

    secrets = {(r.k8s_namespace, r.k8s_name): r for r in run.of_type(SECRET) if r.k8s_name.endswith("-queue")}
    assert set(secrets) == {("tenant-research", "summarizer-queue"), ("tenant-retail", "requester-queue"), ("tenant-research", "analyst-queue")}
    data = secrets[("tenant-retail", "requester-queue")].inputs["stringData"]
    assert data["username"] == "retail_requester"
    assert data["password"] == derive_password(SEED, "retail_requester")


def test_pods_name_the_queue_and_mount_the_password(run):
    deployment = run.one(DEPLOYMENT, "summarizer-v1-0-0", "tenant-research")
    pod = deployment.inputs["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["AGENT_QUEUE_ENDPOINT"] == "rocketmq-proxy.rocketmq.svc:8081"
    assert env["AGENT_QUEUE_USERNAME"] == "research_summarizer"
    assert env["AGENT_QUEUE_PASSWORD_FILE"] == "/etc/agent-credentials/queue-password"
    projected = next(v["projected"] for v in pod["volumes"] if v["name"] == "credentials")
    assert {"secret": {"name": "summarizer-queue", "items": [{"key": "password", "path": "queue-password"}]}} in projected["sources"]
    # bystander calls nobody asynchronously: no queue at all
    bystander = run.one(DEPLOYMENT, "bystander-v1-0-0", "tenant-retail").inputs["spec"]["template"]["spec"]
    assert not any(e["name"].startswith("AGENT_QUEUE") for e in bystander["containers"][0]["env"])


def test_the_agent_card_advertises_the_async_interface(run):
    config = run.one("kubernetes:core/v1:ConfigMap", "summarizer-v1-0-0-config", "tenant-research")
    card = json.loads(config.inputs["data"]["agent-card.json"])
    assert {"url": "rocketmq://rocketmq-proxy.rocketmq.svc:8081", "transport": "ROCKETMQ"} in card["additionalInterfaces"]
    params = card["capabilities"]["extensions"][0]["params"]
    assert params["taskTopics"]["deep-dive"] == "research_summarizer_tasks_deep-dive"
    assert params["maxRetries"] == 2 and params["checkpoints"] is True


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_program_with_async_agents_passes_every_policy(run, env):
    found = S.run_direct(S.from_registered(run.resources), env=env)
    # the dev stack's own prod-rule findings aside (one Nacos, one gateway, an unreplicated queue)
    baseline = {(v.policy, v.urn) for v in S.run_direct(S.from_registered(run_program("dev", overrides={"messageQueue": QUEUE}).resources), env=env)}
    new = [v for v in found if (v.policy, v.urn) not in baseline]
    assert new == [], "\n".join(f"{v.policy}: {v.message}" for v in new)
    assert not [v for v in found if v.policy.startswith("queue-")]


def test_an_async_agent_in_a_stack_without_the_queue_is_refused_at_its_line(agents_dir):
    with pytest.raises(Exception) as error:
        run_program("dev", overrides=agents_override("dev", directory=str(agents_dir)))
    assert "summarizer.yaml:23 async: needs the stack's message queue: set messageQueue.enabled" in str(error.value)
