"""An async agent's worker, reduced to what checkpoint-and-resume needs (run as a subprocess).

It takes one task from its worker group (SimpleConsumer, the agent's own credential), reads the
task's last checkpoint (rocketmq_admin.checkpoints: remoting QUERY_MESSAGE by task id), and runs
the remaining steps; after each step it publishes a checkpoint (key = task id) to the agent's
compacted checkpoints topic and only then records the step as done (one JSON line on stdout,
flushed). After the last step it acks the task. Killed mid-task, the task comes back after its
invisible duration and the next worker resumes after the last checkpoint.

    checkpoint_worker.py --proxy H:P --namesrv H:P --user U --password-env VAR --group G \
        --topic T --checkpoints C --steps N [--step-seconds S] [--invisible S] [--wait S]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(_ROOT))

from rocketmq import (ClientConfiguration, Credentials, FilterExpression, Message,  # noqa: E402
                      Producer, SimpleConsumer)

from rocketmq_admin.checkpoints import last_checkpoint  # noqa: E402


def say(**event) -> None:
    print(json.dumps(event), flush=True)


def main() -> int:
    p = argparse.ArgumentParser()
    for name in ("proxy", "namesrv", "user", "password-env", "group", "topic", "checkpoints"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--step-seconds", type=float, default=0.5)
    p.add_argument("--invisible", type=int, default=10)  # the proxy's minimum is 10 s
    p.add_argument("--wait", type=float, default=40.0)
    args = p.parse_args()
    password = os.environ[args.password_env]
    config = ClientConfiguration(args.proxy, Credentials(args.user, password), request_timeout=10)
    consumer = SimpleConsumer(config, args.group, {args.topic: FilterExpression()}, await_duration=5)
    producer = Producer(config, (args.checkpoints,))
    consumer.startup()
    producer.startup()
    try:
        end = time.monotonic() + args.wait
        task = None
        while task is None and time.monotonic() < end:
            got = consumer.receive(1, args.invisible) or []
            task = got[0] if got else None
        if task is None:
            say(event="no-task")
            return 2
        task_id = sorted(task.keys)[0]
        t0 = time.monotonic()
        last = last_checkpoint(args.namesrv, args.user, password, args.checkpoints, task_id)
        start = json.loads(last)["step"] + 1 if last else 0
        say(event="task", task_id=task_id, attempt=task.delivery_attempt, resume_from=start,
            checkpoint_read_ms=round((time.monotonic() - t0) * 1000, 1))
        for step in range(start, args.steps):
            time.sleep(args.step_seconds)  # the step's work
            msg = Message()
            msg.topic, msg.keys, msg.body = args.checkpoints, task_id, json.dumps({"step": step}).encode()
            producer.send(msg)
            say(event="step", step=step)
        consumer.ack(task)
        say(event="done", task_id=task_id)
        return 0
    finally:
        producer.shutdown()
        consumer.shutdown()


if __name__ == "__main__":
    sys.exit(main())
