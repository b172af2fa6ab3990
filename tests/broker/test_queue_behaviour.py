"""The queue plan of the async fixture agents (tests/fixtures/async-agents), provisioned onto a
real RocketMQ 5.3.3 with rocketmq_admin, and checked from outside the program with the official
Python client (gRPC through the proxy) and each agent's own derived credential:

- isolation: a caller reaches only the skills it is admitted to, only the owner consumes its
  tasks, only the caller reads its results inbox;
- dead letters: a task the worker keeps failing ends in %DLQ%<worker group> after max_retries
  redeliveries, and the owner reads it back with its dead-letter group;
- checkpoint and resume: a worker killed mid-task (SIGKILL) is replaced by one that reads the
  task's last checkpoint (rocketmq_admin.checkpoints) and finishes the remaining steps only.

What the broker answered is recorded in docs/rocketmq-observed.md ("Behaviour of the plan").
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from rocketmq import ClientConfiguration, Credentials, FilterExpression, Message, Producer, \
    SimpleConsumer

from rocketmq_admin import RocketMQAdmin
from rocketmq_admin.checkpoints import CheckpointError, last_checkpoint, query_by_key
from rocketmq_admin.remoting import Connection

from queue_helpers import TEST_SEED, derive_password, fixture_plan, provision, wait_routed

HERE = Path(__file__).resolve().parent
SUMMARIZER, REQUESTER, ANALYST = "research_summarizer", "retail_requester", "research_analyst"
SUMMARIZE = "research_summarizer_tasks_summarize-v1"
DEEP_DIVE = "research_summarizer_tasks_deep-dive"
WORKERS = "research_summarizer_workers"
DEAD_LETTERS_GROUP = "research_summarizer_deadletters"
DLQ = f"%DLQ%{WORKERS}"
CHECKPOINTS = "research_summarizer_checkpoints"
REQUESTER_RESULTS = "retail_requester_results"
ANALYST_RESULTS = "research_analyst_results"


@pytest.fixture(scope="module")
def plan(rocketmq):
    return fixture_plan(rocketmq.namesrv_addr)


@pytest.fixture(scope="module")
def passwords(rocketmq, plan) -> dict[str, str]:
    """The whole plan, provisioned before any client connects (the proxy caches a user's ACL for
    60 s: a grant added after a client's first call would not be seen at once)."""
    with RocketMQAdmin(rocketmq.namesrv_addr, rocketmq.cluster, rocketmq.admin_user,
                       rocketmq.admin_password) as admin:
        created = provision(admin, plan, TEST_SEED)
        wait_routed(admin, [t.name for t in plan.topics])
    return created


def _config(rocketmq, user: str, password: str) -> ClientConfiguration:
    return ClientConfiguration(rocketmq.proxy_endpoint, Credentials(user, password), request_timeout=10)


def _publish(rocketmq, user: str, password: str, topic: str, body: bytes, key: str) -> str:
    producer = Producer(_config(rocketmq, user, password), (topic,))
    producer.startup()
    try:
        msg = Message()
        msg.topic, msg.body, msg.keys = topic, body, key
        return producer.send(msg).message_id
    finally:
        producer.shutdown()


def _consume_key(rocketmq, user: str, password: str, group: str, topic: str, key: str,
                 deadline_s: float = 30.0):
    """Receive until the message with ``key`` arrives (acked), or None at the deadline."""
    consumer = SimpleConsumer(_config(rocketmq, user, password), group, {topic: FilterExpression()},
                              await_duration=3)
    consumer.startup()
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            for m in consumer.receive(16, 15) or []:
                consumer.ack(m)
                if key in m.keys:
                    return m
        return None
    finally:
        consumer.shutdown()


def _probe(rocketmq, what: str, user: str, password: str, topic: str, group: str | None = None,
           timeout: float = 15.0) -> tuple[dict, str]:
    """An attempt in a subprocess (a refused consumer can block the client): its JSON answer
    ({} when it had to be killed) and the client's ERROR log lines."""
    cmd = [sys.executable, str(HERE / "queue_probe.py"), what, "--proxy", rocketmq.proxy_endpoint,
           "--user", user, "--password-env", "PROBE_PASSWORD", "--topic", topic]
    if group:
        cmd += ["--group", group]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PROBE_PASSWORD": password})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), err


def _denied(user: str, resource: str) -> str:
    return f"40100, User:{user} has no permission to access {resource} from 127.0.0.1, no matched policies."


def _audit_denials(rocketmq, user: str, resource: str) -> list[str]:
    """The broker's (and in-JVM proxy's) audit log lines denying ``user`` on ``resource``."""
    log = rocketmq.upstream_log("broker", "auth_audit.log")
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines()
            if f"Subject = User:{user} is Deny" in line and f"on resource = {resource} " in line]


# -- isolation ---------------------------------------------------------------------------------

def test_task_goes_to_the_owner_and_the_result_back_to_the_caller(rocketmq, passwords):
    task_id = f"task-{uuid.uuid4().hex[:8]}"
    _publish(rocketmq, REQUESTER, passwords[REQUESTER], SUMMARIZE, b"summarize this", task_id)
    task = _consume_key(rocketmq, SUMMARIZER, passwords[SUMMARIZER], WORKERS, SUMMARIZE, task_id)
    assert task is not None and task.body == b"summarize this"
    _publish(rocketmq, SUMMARIZER, passwords[SUMMARIZER], REQUESTER_RESULTS, b"the summary", task_id)
    result = _consume_key(rocketmq, REQUESTER, passwords[REQUESTER], REQUESTER_RESULTS,
                          REQUESTER_RESULTS, task_id)
    assert result is not None and result.body == b"the summary"


def test_caller_cannot_publish_to_a_skill_it_is_not_admitted_to(rocketmq, passwords):
    answer, log = _probe(rocketmq, "publish", REQUESTER, passwords[REQUESTER], DEEP_DIVE)
    assert answer == {"error": f"failed to fetch topic:{DEEP_DIVE} route."}
    assert _denied(REQUESTER, f"Topic:{DEEP_DIVE}") in log


def test_others_cannot_consume_the_tasks_or_the_results(rocketmq, passwords):
    seen = f"secret-{uuid.uuid4().hex[:8]}"
    _publish(rocketmq, REQUESTER, passwords[REQUESTER], SUMMARIZE, seen.encode(), seen)
    _publish(rocketmq, SUMMARIZER, passwords[SUMMARIZER], REQUESTER_RESULTS, seen.encode(), seen)
    bystander = "retail_bystander"  # calls nothing: the plan gives it no user
    attempts = [
        # another tenant's caller, with the owner's group and with its own
        (ANALYST, passwords[ANALYST], WORKERS, SUMMARIZE, f"Topic:{SUMMARIZE}"),
        (REQUESTER, passwords[REQUESTER], REQUESTER_RESULTS, SUMMARIZE, f"Topic:{SUMMARIZE}"),
        # a results inbox is its owner's only: not the other caller, not the agent that publishes there
        (ANALYST, passwords[ANALYST], ANALYST_RESULTS, REQUESTER_RESULTS, f"Topic:{REQUESTER_RESULTS}"),
        (SUMMARIZER, passwords[SUMMARIZER], WORKERS, REQUESTER_RESULTS, f"Topic:{REQUESTER_RESULTS}"),
    ]
    with_threads: dict[int, tuple[dict, str]] = {}

    def run(i, user, password, group, topic):
        with_threads[i] = _probe(rocketmq, "consume", user, password, topic, group)

    threads = [threading.Thread(target=run, args=(i, *a[:4])) for i, a in enumerate(attempts)]
    threads.append(threading.Thread(target=run, args=(len(attempts), bystander,
                                                      derive_password(TEST_SEED, bystander),
                                                      WORKERS, SUMMARIZE)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (user, _pw, group, topic, resource) in enumerate(attempts):
        answer, log = with_threads[i]
        assert seen not in json.dumps(answer), (user, group, topic)
        # refused at the route query (the client logs the 40100) or, when the group is the
        # user's own, already on the telemetry stream: the client only logs the stream's end and
        # blocks in startup (killed here); the broker's audit log has the denial either way
        assert _audit_denials(rocketmq, user, resource), (user, group, topic, answer, log)
        if group != WORKERS or user == SUMMARIZER:
            continue
        assert _denied(user, resource) in log, (user, group, topic, answer, log)
    answer, log = with_threads[len(attempts)]
    assert seen not in json.dumps(answer)
    assert f"40100, User:{bystander} is not found." in log
    # and the owners still get them
    assert _consume_key(rocketmq, SUMMARIZER, passwords[SUMMARIZER], WORKERS, SUMMARIZE, seen)
    assert _consume_key(rocketmq, REQUESTER, passwords[REQUESTER], REQUESTER_RESULTS, REQUESTER_RESULTS, seen)


# -- dead letters ------------------------------------------------------------------------------

def test_failing_task_ends_in_the_dead_letter_queue_and_the_owner_reads_it(rocketmq, passwords, plan):
    workers = next(g for g in plan.groups if g.name == WORKERS)
    task_id = f"poison-{uuid.uuid4().hex[:8]}"
    _publish(rocketmq, REQUESTER, passwords[REQUESTER], SUMMARIZE, b"fails every time", task_id)
    consumer = SimpleConsumer(_config(rocketmq, SUMMARIZER, passwords[SUMMARIZER]), WORKERS,
                              {SUMMARIZE: FilterExpression()}, await_duration=3)
    consumer.startup()
    attempts, t0 = [], time.monotonic()
    try:
        # the worker fails it each time: nack = make it visible again after 1 s (the back-off)
        while time.monotonic() - t0 < 45 and len(attempts) <= workers.max_retries + 1:
            for m in consumer.receive(16, 10) or []:
                if task_id in m.keys:
                    attempts.append((m.delivery_attempt, round(time.monotonic() - t0, 1)))
                    consumer.change_invisible_duration(m, 1)
                else:
                    consumer.ack(m)
            if len(attempts) == workers.max_retries + 1:
                # one more wait: nothing else comes (it went to the DLQ)
                extra = [m for m in consumer.receive(16, 10) or [] if task_id in m.keys]
                assert not extra, attempts
                break
    finally:
        consumer.shutdown()
    assert [a for a, _ in attempts] == list(range(1, workers.max_retries + 2)), attempts

    with RocketMQAdmin(rocketmq.namesrv_addr, rocketmq.cluster, rocketmq.admin_user,
                       rocketmq.admin_password) as admin:
        wait_routed(admin, [DLQ], timeout=20)
        dlq = admin.get_topic(DLQ)
    # created by the broker at the first dead letter although autoCreateTopicEnable=false
    assert (dlq.queues, dlq.perm) == (1, 6)
    dead = _consume_key(rocketmq, SUMMARIZER, passwords[SUMMARIZER], DEAD_LETTERS_GROUP, DLQ, task_id)
    assert dead is not None and dead.body == b"fails every time"


# -- checkpoint and resume ---------------------------------------------------------------------

def _worker(rocketmq, password: str, steps: int) -> subprocess.Popen:
    cmd = [sys.executable, str(HERE / "checkpoint_worker.py"), "--proxy", rocketmq.proxy_endpoint,
           "--namesrv", rocketmq.namesrv_addr, "--user", SUMMARIZER, "--password-env", "WORKER_PASSWORD",
           "--group", WORKERS, "--topic", DEEP_DIVE, "--checkpoints", CHECKPOINTS,
           "--steps", str(steps), "--step-seconds", "0.4", "--invisible", "10", "--wait", "45"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "WORKER_PASSWORD": password})


def _events(proc: subprocess.Popen) -> "queue.Queue[dict]":
    q: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            if line.startswith("{"):
                q.put(json.loads(line))
        q.put({"event": "exit"})
    threading.Thread(target=pump, daemon=True).start()
    return q


def _next(q: "queue.Queue[dict]", timeout: float) -> dict:
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no event from the worker in {timeout} s") from None


def test_worker_killed_mid_task_is_resumed_from_the_last_checkpoint(rocketmq, passwords):
    steps, kill_after = 8, 3
    task_id = f"long-{uuid.uuid4().hex[:8]}"
    _publish(rocketmq, ANALYST, passwords[ANALYST], DEEP_DIVE, b"a long analysis", task_id)
    done: list[tuple[str, int]] = []
    first = _worker(rocketmq, passwords[SUMMARIZER], steps)
    second = None
    try:
        events = _events(first)
        start = _next(events, 60)
        assert (start["event"], start["task_id"], start["resume_from"]) == ("task", task_id, 0)
        while len(done) < kill_after:
            e = _next(events, 20)
            assert e["event"] == "step", e
            done.append(("first", e["step"]))
        first.kill()  # SIGKILL mid-task: no ack, no goodbye
        first.wait(10)
        killed_at = time.monotonic()
        second = _worker(rocketmq, passwords[SUMMARIZER], steps)
        events = _events(second)
        start = _next(events, 60)
        redelivered_s = time.monotonic() - killed_at
        assert start["event"] == "task" and start["task_id"] == task_id, start
        assert start["attempt"] == 2
        resumed_from = start["resume_from"]
        while True:
            e = _next(events, 20)
            if e["event"] != "step":
                break
            done.append(("second", e["step"]))
        assert e["event"] == "done", e
        assert second.wait(20) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    # every step exactly once, the second worker started after the last checkpoint, not at 0
    assert sorted(s for _, s in done) == list(range(steps)), done
    assert resumed_from == max(s for w, s in done if w == "first") + 1 > 0
    assert min(s for w, s in done if w == "second") == resumed_from
    assert redelivered_s < 30  # the first worker's 10 s invisible duration, then the next receive
    # the checkpoint store now says: last step done
    last = last_checkpoint(rocketmq.namesrv_addr, SUMMARIZER, passwords[SUMMARIZER], CHECKPOINTS, task_id)
    assert json.loads(last) == {"step": steps - 1}


def test_only_the_owner_reads_its_checkpoints(rocketmq, passwords):
    task_id = f"cp-{uuid.uuid4().hex[:8]}"
    for step in range(3):
        _publish(rocketmq, SUMMARIZER, passwords[SUMMARIZER], CHECKPOINTS,
                 json.dumps({"step": step}).encode(), task_id)
    got = None
    for _ in range(20):  # the broker indexes a message's keys shortly after storing it
        got = last_checkpoint(rocketmq.namesrv_addr, SUMMARIZER, passwords[SUMMARIZER], CHECKPOINTS, task_id)
        if got is not None and json.loads(got)["step"] == 2:
            break
        time.sleep(0.1)
    assert json.loads(got) == {"step": 2}
    assert last_checkpoint(rocketmq.namesrv_addr, SUMMARIZER, passwords[SUMMARIZER], CHECKPOINTS,
                           "no-such-task") is None
    # a caller of the agent has no right on its checkpoints
    with Connection(rocketmq.broker_addr, REQUESTER, passwords[REQUESTER]) as conn:
        with pytest.raises(CheckpointError, match=f"code 16: User:{REQUESTER} has no permission to "
                                                  f"access Topic:{CHECKPOINTS}"):
            query_by_key(conn, CHECKPOINTS, task_id)
