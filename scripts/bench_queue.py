"""Benchmark of an agent's long-task path over a real RocketMQ 5.3.3 (not a test).

Starts its own broker (scripts/rocketmq_server.py), provisions the queue plan of the async
fixture agents (tests/fixtures/async-agents) with per-agent ACL users, then measures:

- plan path: requester publishes a task to summarizer's summarize-v1 topic -> summarizer's
  workers (the fixture's concurrency, one SimpleConsumer each, own credential) consume it and
  publish the result into requester's results topic -> requester consumes the result;
  end-to-end latency per task (p50/p95/max) and tasks/s;
- raw, two hops: the same path (same workers, same concurrency) with the admin user on plain
  topics and groups, so the difference to the plan path is what the plan and its per-agent ACL
  users cost, not the second hop;
- raw: the same client, admin user, one topic and group: publish -> consume round trip.

    venv/bin/python scripts/bench_queue.py [--tasks 300] [--warmup 300]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _p in (_ROOT / "scripts", _ROOT, _ROOT / "tests" / "broker"):
    sys.path.insert(0, str(_p))

import rocketmq_server as mq_mod  # noqa: E402
from queue_helpers import TEST_SEED, fixture_plan, provision, wait_routed  # noqa: E402
from rocketmq import (ClientConfiguration, Credentials, FilterExpression, Message,  # noqa: E402
                      Producer, SimpleConsumer)

from rocketmq_admin import GroupSpec, RocketMQAdmin, TopicSpec  # noqa: E402

logging.getLogger("rocketmq-python-client").setLevel(logging.ERROR)


def config(srv, user, password):
    return ClientConfiguration(srv.proxy_endpoint, Credentials(user, password), request_timeout=10)


def run_path(srv, tasks: int, task_topic: str, caller: tuple[str, str], caller_group: str,
             results_topic: str, worker: tuple[str, str] | None, worker_group: str | None,
             concurrency: int, deadline_s: float = 120.0) -> dict:
    """Publish ``tasks`` messages; workers (if any) turn each into a result on ``results_topic``;
    the caller's consumer records when each result arrives."""
    sent: dict[str, float] = {}
    done: dict[str, float] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def work():
        consumer = SimpleConsumer(config(srv, *worker), worker_group, {task_topic: FilterExpression()},
                                  await_duration=2)
        producer = Producer(config(srv, *worker), (results_topic,))
        consumer.startup()
        producer.startup()
        try:
            while not stop.is_set():
                for m in consumer.receive(16, 15) or []:
                    out = Message()
                    out.topic, out.keys, out.body = results_topic, sorted(m.keys)[0], b"result:" + m.body
                    producer.send(out)
                    consumer.ack(m)
        finally:
            producer.shutdown()
            consumer.shutdown()

    def collect():
        consumer = SimpleConsumer(config(srv, *caller), caller_group, {results_topic: FilterExpression()},
                                  await_duration=2)
        consumer.startup()
        try:
            while not stop.is_set():
                for m in consumer.receive(32, 15) or []:
                    now = time.perf_counter()
                    with lock:
                        done.setdefault(sorted(m.keys)[0], now)
                    consumer.ack(m)
        finally:
            consumer.shutdown()

    threads = [threading.Thread(target=collect)]
    if worker:
        threads += [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(3)  # consumers started and long-polling
    producer = Producer(config(srv, *caller), (task_topic,))
    producer.startup()
    t0 = time.perf_counter()
    try:
        for i in range(tasks):
            msg = Message()
            key = f"t{i}"
            msg.topic, msg.keys, msg.body = task_topic, key, b"x" * 256
            sent[key] = time.perf_counter()
            producer.send(msg)
        publish_s = time.perf_counter() - t0
        end = time.monotonic() + deadline_s
        while len(done) < tasks and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        producer.shutdown()
        stop.set()
        for t in threads:
            t.join(30)
    last = max(done.values()) if done else t0
    lat = sorted((done[k] - sent[k]) * 1000 for k in done)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {"tasks": tasks, "completed": len(done), "publish_per_s": tasks / publish_s,
            "tasks_per_s": len(done) / (last - t0), "p50_ms": q[49], "p95_ms": q[94],
            "max_ms": lat[-1] if lat else float("nan")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=300)
    p.add_argument("--warmup", type=int, default=300, help="messages through the raw two-hop path first, not measured")
    args = p.parse_args()
    t_start = time.monotonic()
    build = mq_mod.build()
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as data:
        srv = mq_mod.RocketMQServer(data_dir=data)
        srv.start(build)
        try:
            plan = fixture_plan(srv.namesrv_addr)
            with RocketMQAdmin(srv.namesrv_addr, srv.cluster, srv.admin_user, srv.admin_password) as admin:
                passwords = provision(admin, plan, TEST_SEED)
                raw_topics = ["bench_raw", "bench_raw_tasks", "bench_raw_results"]
                for topic in raw_topics:
                    admin.create_topic(TopicSpec(topic, queues=4))
                for group in ("bench_raw_group", "bench_raw_workers", "bench_raw_results"):
                    admin.put_group(GroupSpec(group))
                wait_routed(admin, [t.name for t in plan.topics] + raw_topics)
            access = plan.access
            summ, req = access["summarizer"], access["requester"]
            admin_cred = (srv.admin_user, srv.admin_password)
            # a fresh broker's JVM is cold: warm it up (not measured) so the order of the rows does not decide
            run_path(srv, args.warmup, "bench_raw_tasks", admin_cred, "bench_raw_results", "bench_raw_results",
                     admin_cred, "bench_raw_workers", summ.concurrency or 1)
            rows = []
            plan_path = run_path(
                srv, args.tasks, summ.task_topics["summarize-v1"], (req.username, passwords[req.username]),
                req.results_group, req.results_topic, (summ.username, passwords[summ.username]),
                summ.worker_group, summ.concurrency or 1)
            rows.append(("plan: task -> worker -> result -> caller (ACL users)", plan_path))
            two_hops = run_path(srv, args.tasks, "bench_raw_tasks", admin_cred, "bench_raw_results", "bench_raw_results",
                                admin_cred, "bench_raw_workers", summ.concurrency or 1)
            rows.append(("raw, two hops: the same path, admin user, plain topics", two_hops))
            raw = run_path(srv, args.tasks, "bench_raw", admin_cred, "bench_raw_group", "bench_raw",
                           None, None, 0)
            rows.append(("raw: publish -> consume, admin, 1 topic", raw))
        finally:
            srv.stop()
    print(f"\nRocketMQ 5.3.3, rocketmq-python-client 5.1.1, {args.tasks} messages each, "
          f"workers {summ.concurrency}; total {time.monotonic() - t_start:.0f} s\n")
    print(f"| path | done | publish/s | tasks/s | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['completed']}/{r['tasks']} | {r['publish_per_s']:.0f} | {r['tasks_per_s']:.0f} "
              f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['max_ms']:.1f} |")
    return 0 if all(r["completed"] == r["tasks"] for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
