"""The admin path (rocketmq_admin) against a real RocketMQ 5.3.3, checked from outside it with
the official Python client (rocketmq-python-client, gRPC through the proxy) as the independent
reader: what it creates exists with its settings, ACL 2.0 lets exactly the allowed callers in,
and a delete leaves nothing behind."""

from __future__ import annotations

import time

import pytest
from rocketmq import ClientConfiguration, Credentials, FilterExpression, Message, Producer, \
    SimpleConsumer
from rocketmq.grpc_protocol import MessageType

from rocketmq_admin import (AclEntry, AclSpec, AdminError, BrokerUnreachable, GroupSpec,
                            RetryPolicy, RocketMQAdmin, TopicConflict, TopicSpec, UserSpec)


def _config(rocketmq, user: str, password: str) -> ClientConfiguration:
    return ClientConfiguration(rocketmq.proxy_endpoint, Credentials(user, password),
                               request_timeout=10)


def _route(rocketmq, topic: str) -> list:
    """The topic's queues as the proxy routes them to a client (admin credentials)."""
    producer = Producer(_config(rocketmq, rocketmq.admin_user, rocketmq.admin_password))
    producer.startup()
    try:
        return list(producer._retrieve_topic_route_data(topic).message_queues)
    finally:
        producer.shutdown()


def _send(rocketmq, user: str, password: str, topic: str, body: bytes) -> str:
    producer = Producer(_config(rocketmq, user, password), (topic,))
    producer.startup()
    try:
        msg = Message()
        msg.topic, msg.body, msg.tag = topic, body, "task"
        return producer.send(msg).message_id
    finally:
        producer.shutdown()


def _receive(rocketmq, user: str, password: str, group: str, topic: str,
             deadline_s: float = 30.0) -> list[bytes]:
    consumer = SimpleConsumer(_config(rocketmq, user, password), group,
                              {topic: FilterExpression()}, await_duration=5)
    consumer.startup()
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            messages = consumer.receive(16, 15) or []
            for m in messages:
                consumer.ack(m)
            if messages:
                return [m.body for m in messages]
        return []
    finally:
        consumer.shutdown()


def _server_answers(caplog) -> str:
    """What the proxy answered, as the official client logs it: its exceptions only say
    "failed to fetch topic:<t> route.", the log line carries the server's code and message."""
    return "\n".join(r.getMessage() for r in caplog.records
                     if r.name == "rocketmq-python-client" and r.levelname == "ERROR")


def _user_with_acl(admin: RocketMQAdmin, name, entries: tuple[AclEntry, ...]) -> tuple[str, str]:
    user, password = name("agent"), name("pw")
    admin.create_user(UserSpec(user, password))
    if entries:
        admin.create_acl(AclSpec(user, entries))
    return user, password


def test_topic_created_has_its_settings(rocketmq, admin, name):
    topic = name("tasks")
    admin.create_topic(TopicSpec(topic, queues=3, message_type="FIFO"))
    # read back by the broker (admin path) and, independently, by the official client's route
    assert admin.get_topic(topic) == TopicSpec(topic, queues=3, message_type="FIFO")
    assert admin.topic_routed(topic)
    queues = _route(rocketmq, topic)
    assert len(queues) == 3
    assert all(q.accept_message_types == {MessageType.FIFO} for q in queues)
    # same settings again: adopted, unchanged
    assert admin.create_topic(TopicSpec(topic, queues=3, message_type="FIFO")).queues == 3


def test_update_topic_and_compaction_is_fixed(rocketmq, admin, name):
    topic = name("ckpt")
    admin.create_topic(TopicSpec(topic, queues=2, cleanup_policy="COMPACTION"))
    assert admin.get_topic(topic).cleanup_policy == "COMPACTION"
    admin.update_topic(TopicSpec(topic, queues=4, cleanup_policy="COMPACTION"))
    assert admin.get_topic(topic).queues == 4
    assert len(_route(rocketmq, topic)) == 4
    with pytest.raises(AdminError, match="unchangeable attribute.*cleanup.policy"):
        admin.update_topic(TopicSpec(topic, queues=4, cleanup_policy="DELETE"))
    assert admin.get_topic(topic).cleanup_policy == "COMPACTION"


def test_conflicting_topic_is_refused_by_name(admin, name):
    topic = name("taken")
    admin.create_topic(TopicSpec(topic, queues=2))
    with pytest.raises(TopicConflict, match=f"topic {topic} already exists.*queues is 2, "
                                            "declared 8.*message_type is 'NORMAL', declared 'DELAY'"):
        admin.create_topic(TopicSpec(topic, queues=8, message_type="DELAY"))
    assert admin.get_topic(topic) == TopicSpec(topic, queues=2)


def test_group_settings_read_back(admin, name):
    group = name("workers")
    spec = GroupSpec(group, max_retries=3, retry_policy=RetryPolicy(
        kind="EXPONENTIAL", initial_ms=500, max_ms=10000, multiplier=3))
    admin.put_group(spec)
    assert admin.get_group(group) == spec
    admin.put_group(GroupSpec(group, max_retries=5, orderly=True))
    got = admin.get_group(group)
    assert (got.max_retries, got.orderly, got.retry_policy.kind) == (5, True, "CUSTOMIZED")
    assert admin.delete_group(group) is True
    assert admin.get_group(group) is None


def test_allowed_caller_publishes_and_target_group_consumes(rocketmq, admin, name):
    topic, group = name("a2a"), name("target")
    admin.create_topic(TopicSpec(topic, queues=2))
    admin.put_group(GroupSpec(group, max_retries=2))
    caller = _user_with_acl(admin, name, (AclEntry(f"Topic:{topic}", ("Pub",)),))
    target = _user_with_acl(admin, name, (AclEntry(f"Topic:{topic}", ("Sub",)),
                                          AclEntry(f"Group:{group}", ("Sub",))))
    assert admin.get_acl(caller[0])["policies"][0]["entries"][0]["resource"] == f"Topic:{topic}"
    _send(rocketmq, *caller, topic, b'{"task": "summarise"}')
    assert _receive(rocketmq, *target, group, topic) == [b'{"task": "summarise"}']


def test_caller_without_acl_is_refused_by_the_broker(rocketmq, admin, name, caplog):
    topic, other = name("a2a"), name("other")
    admin.create_topic(TopicSpec(topic))
    admin.create_topic(TopicSpec(other))
    # a user with no ACL at all, and one allowed to publish only to another topic
    outsider = _user_with_acl(admin, name, ())
    elsewhere = _user_with_acl(admin, name, (AclEntry(f"Topic:{other}", ("Pub",)),))
    for user, password in (outsider, elsewhere):
        caplog.clear()
        with pytest.raises(Exception, match=f"failed to fetch topic:{topic} route"):
            _send(rocketmq, user, password, topic, b"not allowed")
        assert (f"40100, User:{user} has no permission to access Topic:{topic} from 127.0.0.1, "
                "no matched policies") in _server_answers(caplog)
    _send(rocketmq, *elsewhere, other, b"allowed there")


def test_wrong_credentials_are_refused(rocketmq, admin, name, caplog):
    topic = name("a2a")
    admin.create_topic(TopicSpec(topic))
    user, _ = _user_with_acl(admin, name, (AclEntry(f"Topic:{topic}", ("Pub",)),))
    for who, password in ((user, "wrong-password"), (name("nobody"), "whatever")):
        caplog.clear()
        with pytest.raises(Exception, match=f"failed to fetch topic:{topic} route"):
            _send(rocketmq, who, password, topic, b"x")
        answers = _server_answers(caplog)
        assert "40100, check signature failed" in answers or \
            f"40100, User:{who} is not found" in answers, answers
    with RocketMQAdmin(rocketmq.namesrv_addr, rocketmq.cluster, rocketmq.admin_user,
                       "wrong-password") as bad_admin:
        with pytest.raises(AdminError, match="check signature failed"):
            bad_admin.create_topic(TopicSpec(name("never")))


def test_delete_removes_topic_user_and_acl(rocketmq, admin, name):
    topic = name("gone")
    admin.create_topic(TopicSpec(topic))
    user, password = _user_with_acl(admin, name, (AclEntry(f"Topic:{topic}", ("Pub",)),))
    _send(rocketmq, user, password, topic, b"before delete")
    admin.delete_acl(user)
    assert admin.get_acl(user) is None
    admin.delete_user(user)
    assert admin.get_user(user) is None
    assert admin.delete_topic(topic) is True
    assert admin.get_topic(topic) is None
    assert not admin.topic_routed(topic)
    with pytest.raises(Exception):
        _send(rocketmq, user, password, topic, b"after delete")


def test_broker_down_is_a_clear_error(rocketmq):
    closed = f"127.0.0.1:{rocketmq.base_port + 5}"  # inside our port block, nothing listens
    with RocketMQAdmin(closed, rocketmq.cluster, rocketmq.admin_user,
                       rocketmq.admin_password, timeout=2) as down:
        with pytest.raises(BrokerUnreachable, match=f"cannot connect to {closed}"):
            down.create_topic(TopicSpec("never"))


def test_invalid_declarations_are_refused_before_any_call(admin, name):
    for bad, message in ((lambda: admin.create_topic(TopicSpec("%RETRY%x")), "names are 1-127"),
                         (lambda: admin.create_topic(TopicSpec(name("t"), message_type="LIFO")),
                          "message type 'LIFO'"),
                         (lambda: admin.create_acl(AclSpec("someone", (
                             AclEntry("Topic:x", ("Fly",)),))), r"not \['Fly'\]")):
        with pytest.raises(AdminError, match=message):
            bad()
    assert admin.get_topic("%RETRY%x") is None


def test_normal_user_cannot_administer(rocketmq, admin, name):
    user, password = _user_with_acl(admin, name, ())
    with RocketMQAdmin(rocketmq.namesrv_addr, rocketmq.cluster, user, password) as normal:
        with pytest.raises(AdminError, match=f"User:{user} has no permission to access Cluster"):
            normal.create_user(UserSpec(name("x"), "y", user_type="Super"))
        topic = name("t")
        with pytest.raises(AdminError, match=f"User:{user} has no permission to access Topic:{topic}"):
            normal.create_topic(TopicSpec(topic))
    assert admin.get_topic(topic) is None


def test_brokers_given_directly_skip_the_name_server(rocketmq, admin, name):
    """On Kubernetes the name server hands out pod IPs: the provider may name the brokers."""
    topic = name("direct")
    admin.create_topic(TopicSpec(topic, queues=2))
    closed = f"127.0.0.1:{rocketmq.base_port + 5}"
    with RocketMQAdmin(closed, rocketmq.cluster, rocketmq.admin_user, rocketmq.admin_password,
                       timeout=2, brokers=[rocketmq.broker_addr]) as direct:
        assert direct.get_topic(topic) == TopicSpec(topic, queues=2)
