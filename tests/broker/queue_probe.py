"""One publish or one receive attempt with the official client, as a subprocess.

A refused consumer can block the client (its telemetry stream dies and startup waits: observed),
so the tests run attempts that should be refused here, under a timeout. Prints one JSON line
(what happened) on stdout; the client's ERROR log lines (where it puts the server's code and
message) go to stderr.

    queue_probe.py publish|consume --proxy H:P --user U --password-env VAR --topic T [--group G]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from rocketmq import (ClientConfiguration, Credentials, FilterExpression, Message, Producer,
                      SimpleConsumer)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=("publish", "consume"))
    for name in ("proxy", "user", "password-env", "topic"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--group")
    args = p.parse_args()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR)
    logging.getLogger("rocketmq-python-client").addHandler(handler)
    config = ClientConfiguration(args.proxy, Credentials(args.user, os.environ[args.password_env]),
                                 request_timeout=5)
    try:
        if args.what == "publish":
            producer = Producer(config, (args.topic,))
            producer.startup()
            try:
                msg = Message()
                msg.topic, msg.body = args.topic, b"probe"
                print(json.dumps({"sent": producer.send(msg).message_id}), flush=True)
            finally:
                producer.shutdown()
        else:
            consumer = SimpleConsumer(config, args.group, {args.topic: FilterExpression()}, await_duration=2)
            consumer.startup()
            try:
                got = consumer.receive(16, 10) or []
                print(json.dumps({"received": [m.body.decode(errors="replace") for m in got]}), flush=True)
            finally:
                consumer.shutdown()
    except Exception as e:  # the refusal, as the client reports it
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
