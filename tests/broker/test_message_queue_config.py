"""The dev queue exactly as render/message_queue.py renders it, started for real: the ConfigMap's
files, the Secret's files and the containers' start scripts (the same shell text the pods run),
with only what cannot hold on one machine changed: ports (loopback, free), /home/rocketmq and the
mount paths (temp dirs), small store files and heaps.

A name server, one broker and one proxy in cluster mode (`-pm cluster`, its own JVM, as the
proxy Deployment runs it), ACL 2.0 on. Proves: the assembled files start RocketMQ 5.3.3, the
admin user from the Secret administers the cluster (rocketmq_admin), a wrong password or an
unknown user is refused by the broker and by the proxy, a user with an ACL publishes through
the proxy, and TERM to a start script stops its JVM.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import time
import uuid
from pathlib import Path

import pytest
from rocketmq import ClientConfiguration, Credentials, Message, Producer

import rocketmq_server as mq_mod
from models.settings import MessageQueueSettings
from render import message_queue as mq
from rocketmq_admin import AclEntry, AclSpec, AdminError, RocketMQAdmin, TopicSpec, UserSpec

HOST = "127.0.0.1"
ADMIN_USER = "rocketmq-admin"
GROUP = mq.broker_group_name(0)


def _settings() -> MessageQueueSettings:
    return MessageQueueSettings(enabled=True, cluster="AgentRuntimeQueue")


class RenderedQueue:
    """The three containers of the dev shape as processes: their files under <root>/<role>/."""

    def __init__(self, root: Path, artifacts: mq_mod.BuildResult):
        self.root = root
        self.s = _settings()
        self.password = f"pw-{uuid.uuid4().hex}"
        self.ports = mq_mod.derived_ports(mq_mod.find_free_base_port())
        self.home = mq_mod.image_like_home(artifacts, root / "rocketmq-home")
        self.procs: dict[str, object] = {}

    @property
    def namesrv_addr(self) -> str:
        return f"{HOST}:{self.ports['namesrv']}"

    @property
    def proxy_endpoint(self) -> str:
        return f"{HOST}:{self.ports['grpc']}"

    def paths(self, role: str) -> dict[str, Path]:
        base = self.root / role
        return {name: base / name for name in ("conf", "secret", "run", "home")}

    def localise(self, text: str, role: str) -> str:
        """Mount paths and the user's home of the pod -> this role's temp dirs."""
        p = self.paths(role)
        for pod_path, here in ((mq.CONF_DIR, p["conf"]), (mq.SECRET_DIR, p["secret"]),
                               (mq.RUN_DIR, p["run"]), (mq.USER_HOME + "/", f"{p['home']}/")):
            text = text.replace(pod_path, str(here))
        return text

    def write_files(self) -> None:
        data = mq.config_map_data(self.s)
        secret = mq.secret_string_data(self.s.acl, ADMIN_USER, self.password)
        loopback = {"namesrv": self.namesrv_addr}
        conf = {
            "namesrv.conf": mq_mod.set_properties(data["namesrv.conf"], {
                "listenPort": self.ports["namesrv"], "bindAddress": HOST}),
            f"{GROUP}.conf": mq_mod.set_properties(data[f"{GROUP}.conf"], {
                "listenPort": self.ports["broker"], "haListenPort": self.ports["broker_ha"],
                "namesrvAddr": loopback["namesrv"], "bindAddress": HOST,
                "mappedFileSizeCommitLog": 64 * 1024 * 1024, "mappedFileSizeTimerLog": 16 * 1024 * 1024}),
        }
        proxy = json.loads(data["rmq-proxy.json"])
        proxy.update(grpcServerPort=self.ports["grpc"], remotingListenPort=self.ports["proxy_remoting"],
                     namesrvAddr=loopback["namesrv"])
        conf["rmq-proxy.json"] = mq.proxy_json(proxy)
        for role in ("namesrv", "broker", "proxy"):
            p = self.paths(role)
            for d in p.values():
                d.mkdir(parents=True, exist_ok=True)
            for key, text in conf.items():
                (p["conf"] / key).write_text(self.localise(text, role))
            for key in (mq.BROKER_SECRET_KEY, mq.PROXY_SECRET_KEY):
                path = p["secret"] / key
                path.write_text(secret[key])
                path.chmod(0o400)

    def start(self, role: str) -> None:
        script = {"namesrv": mq.start_script("namesrv", self.s), "broker": mq.start_script("broker", self.s, GROUP),
                  "proxy": mq.start_script("proxy", self.s)}[role]
        p = self.paths(role)
        heap = {"namesrv": "-Xms128m -Xmx128m", "broker": "-Xms384m -Xmx384m -XX:MaxDirectMemorySize=256m",
                "proxy": "-Xms256m -Xmx256m"}[role]
        env = {"ROCKETMQ_HOME": str(self.home), "POD_IP": HOST, "POD_NAME": f"{role}-0",
               "HEAP_OPTS": heap, "RMQ_USER_HOME": str(p["home"])}
        self.procs[role] = mq_mod.start_script_process(self.localise(script, role), env, self.log(role), p["home"])

    def log(self, role: str) -> Path:
        return self.root / role / "stdout.log"

    def wait(self, role: str, ready, timeout: float = 180.0) -> None:
        t0 = time.monotonic()
        while not ready():
            proc = self.procs[role]
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                logs = [f"--- {self.log(role)}:\n{mq_mod.tail(self.log(role), 30)}"]
                upstream = self.paths(role)["home"] / "logs" / "rocketmqlogs"
                for name in ("namesrv.log", "broker.log", "proxy.log"):
                    if (upstream / name).exists():
                        logs.append(f"--- {upstream / name}:\n{mq_mod.tail(upstream / name, 20)}")
                pytest.fail(f"{role} did not become ready (exit {proc.poll()}):\n" + "\n".join(logs), pytrace=False)
            time.sleep(0.3)

    def stop(self) -> None:
        for role in ("proxy", "broker", "namesrv"):
            proc = self.procs.pop(role, None)
            if proc is not None:
                mq_mod.stop_group(proc)


@pytest.fixture(scope="module")
def queue(rocketmq_build, tmp_path_factory) -> RenderedQueue:
    q = RenderedQueue(tmp_path_factory.mktemp("rendered-queue"), rocketmq_build)
    q.write_files()
    try:
        q.start("namesrv")
        q.wait("namesrv", lambda: mq_mod.tcp_open(q.ports["namesrv"]))
        q.start("broker")
        q.wait("broker", lambda: mq_mod.broker_registered(q.namesrv_addr, q.s.cluster, GROUP))
        q.start("proxy")
        q.wait("proxy", lambda: mq_mod.tcp_open(q.ports["grpc"]) and mq_mod.tcp_open(q.ports["proxy_remoting"]))
        yield q
    finally:
        q.stop()


def _admin(q: RenderedQueue, password: str) -> RocketMQAdmin:
    return RocketMQAdmin(q.namesrv_addr, q.s.cluster, ADMIN_USER, password)


def _send(q: RenderedQueue, user: str, password: str, topic: str) -> str:
    producer = Producer(ClientConfiguration(q.proxy_endpoint, Credentials(user, password), request_timeout=10), (topic,))
    producer.startup()
    try:
        msg = Message()
        msg.topic, msg.body, msg.tag = topic, b"checkpoint", "task"
        return producer.send(msg).message_id
    finally:
        producer.shutdown()


def _answers(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records
                     if r.name == "rocketmq-python-client" and r.levelname == "ERROR")


def test_assembled_files_hold_the_secret_only_in_the_run_dir(queue):
    broker_conf = queue.paths("broker")["run"] / "broker.conf"
    proxy_conf = queue.paths("proxy")["run"] / "rmq-proxy.json"
    for path in (broker_conf, proxy_conf):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert queue.password in path.read_text()
    proxy = json.loads(proxy_conf.read_text())
    assert proxy["proxyMode"] == "cluster" and proxy["authenticationEnabled"] is True
    assert json.loads(proxy["innerClientAuthenticationCredentials"]) == {"accessKey": ADMIN_USER, "secretKey": queue.password}
    assert f"brokerIP1={HOST}" in broker_conf.read_text()
    for role in ("namesrv", "broker", "proxy"):
        for f in queue.paths(role)["conf"].iterdir():
            assert queue.password not in f.read_text()


def test_admin_from_the_secret_administers_and_wrong_password_is_refused(queue):
    topic = f"tasks-{uuid.uuid4().hex[:8]}"
    with _admin(queue, queue.password) as admin:
        assert admin.masters() == [f"{HOST}:{queue.ports['broker']}"]
        admin.create_topic(TopicSpec(topic, queues=2))
        assert admin.get_topic(topic) == TopicSpec(topic, queues=2)
        admin.create_user(UserSpec("agent-a", "agent-a-password"))
        admin.create_acl(AclSpec("agent-a", (AclEntry(f"Topic:{topic}", ("Pub",)),)))
    with _admin(queue, "wrong-password") as bad:
        with pytest.raises(AdminError, match="check signature failed"):
            bad.create_topic(TopicSpec(f"never-{uuid.uuid4().hex[:8]}"))


def test_proxy_in_cluster_mode_checks_credentials(queue, caplog):
    caplog.set_level(logging.ERROR, logger="rocketmq-python-client")
    topic = f"ckpt-{uuid.uuid4().hex[:8]}"
    with _admin(queue, queue.password) as admin:
        admin.create_topic(TopicSpec(topic))
        admin.create_user(UserSpec("agent-b", "agent-b-password"))
        admin.create_acl(AclSpec("agent-b", (AclEntry(f"Topic:{topic}", ("Pub",)),)))
    # the proxy reads users and ACLs from the broker: an allowed user publishes through it
    assert _send(queue, "agent-b", "agent-b-password", topic)
    assert _send(queue, ADMIN_USER, queue.password, topic)
    for who, password in (("agent-b", "wrong-password"), ("ghost", "whatever")):
        caplog.clear()
        with pytest.raises(Exception, match=f"failed to fetch topic:{topic} route"):
            _send(queue, who, password, topic)
        answers = _answers(caplog)
        assert "40100, check signature failed" in answers or f"40100, User:{who} is not found" in answers, answers


def test_term_to_a_start_script_stops_its_jvm(queue):
    """Last: the proxy's start script forwards TERM to the JVM (the launchers do not exec java)."""
    proc = queue.procs.pop("proxy")
    t0 = time.monotonic()
    os.kill(proc.pid, 15)
    proc.wait(60)
    assert proc.returncode == 143 or proc.returncode == 0, proc.returncode
    deadline = time.monotonic() + 30
    while mq_mod.tcp_open(queue.ports["grpc"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not mq_mod.tcp_open(queue.ports["grpc"]), "the proxy JVM still listens after TERM to its start script"
    assert time.monotonic() - t0 < 60
