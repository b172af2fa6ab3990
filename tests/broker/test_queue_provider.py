"""The RocketMQ providers (rocketmq_provider), driven through Pulumi's real dynamic-provider host
over gRPC, against a real RocketMQ 5.3.3 with ACL 2.0 on.

What the providers did is checked from outside them: with the admin path (rocketmq_admin, as the
super user) and with the official Python client (rocketmq-python-client, gRPC through the proxy),
which publishes as the agent's user with the password the program would put in its Secret.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from rocketmq import ClientConfiguration, Credentials, Message, Producer

_REGISTRY_TESTS = Path(__file__).resolve().parents[1] / "registry"
if str(_REGISTRY_TESTS) not in sys.path:
    sys.path.insert(0, str(_REGISTRY_TESTS))

from dynamic_host import DynamicProviderHost, ProviderCallError, free_port  # noqa: E402
from rocketmq_admin import GroupSpec, RetryPolicy, TopicSpec, UserSpec  # noqa: E402
from rocketmq_provider.credentials import derive_password  # noqa: E402
from rocketmq_provider.provider import (QueueConsumerGroupProvider, QueueTopicProvider,  # noqa: E402
                                        QueueUserProvider)

SEED = "provider-test-seed-0123456789abcdef"
TOPIC, GROUP, USER = QueueTopicProvider(), QueueConsumerGroupProvider(), QueueUserProvider()


def queue_config(rocketmq, password=None, seed=SEED, **admin) -> dict:
    """The stack config the providers are configured with: ``messageQueue.admin`` pointing at the
    test broker, and the two secrets. Other members of messageQueue are the program's: ignored."""
    block = {"namesrvAddr": rocketmq.namesrv_addr, "cluster": rocketmq.cluster,
             "adminUser": rocketmq.admin_user, "timeoutSeconds": 5, **admin}
    config = {"agent-runtime:messageQueue": json.dumps({"enabled": True, "admin": block,
                                                        "image": "apache/rocketmq:5.3.3"}),
              "agent-runtime:messageQueueAdminPassword": password or rocketmq.admin_password}
    if seed:
        config["agent-runtime:messageQueueCredentialSeed"] = seed
    return config


@pytest.fixture(scope="module")
def host(rocketmq):
    """Pulumi's real dynamic-provider host, configured against the test broker."""
    with DynamicProviderHost(queue_config(rocketmq)) as h:
        yield h


def topic_inputs(topic: str, queues: int = 4, **more) -> dict:
    return {"queueKind": "Topic", "topic": topic, "queues": queues, "messageType": "NORMAL",
            "cleanupPolicy": "DELETE", "tenant": "retail", "agent": "orders", "kind": "tasks",
            "acceptsFrom": ["retail/frontdesk"], **more}


def group_inputs(group: str, **more) -> dict:
    return {"queueKind": "ConsumerGroup", "group": group, "maxRetries": 3,
            "retryPolicy": {"kind": "EXPONENTIAL", "initialMs": 500, "maxMs": 10000, "multiplier": 3},
            "orderly": False, "tenant": "retail", "agent": "orders", **more}


def user_inputs(username: str, entries: list[dict], **more) -> dict:
    return {"queueKind": "User", "username": username, "entries": entries, "tenant": "retail",
            "agent": "orders", "credentialVersion": 1, **more}


def checked(host, provider, name: str, inputs: dict) -> dict:
    """Check through the host (as the engine does before every create/update), then the props."""
    news, failures = host.check(name, {}, host.props(provider, inputs))
    assert failures == []
    return news


def one_line(details: str) -> str:
    assert "Traceback" not in details, details
    assert "\n" not in details.strip(), details
    return details


def _send(rocketmq, user: str, password: str, topic: str, body: bytes) -> str:
    config = ClientConfiguration(rocketmq.proxy_endpoint, Credentials(user, password), request_timeout=10)
    producer = Producer(config, (topic,))
    producer.startup()
    try:
        msg = Message()
        msg.topic, msg.body, msg.tag = topic, body, "task"
        return producer.send(msg).message_id
    finally:
        producer.shutdown()


def _server_answers(caplog) -> str:
    """The proxy's answer as the official client logs it (its exception says only "failed to fetch
    topic:<t> route."; docs/rocketmq-observed.md)."""
    return "\n".join(r.getMessage() for r in caplog.records
                     if r.name == "rocketmq-python-client" and r.levelname == "ERROR")


# ------------------------------------------------------------------ topics


def test_topic_lifecycle(rocketmq, admin, host, name):
    topic = name("tasks")
    props = checked(host, TOPIC, "topic", topic_inputs(topic, queues=3))
    id_, outs = host.create("topic", props)
    assert id_ == topic and outs["queues"] == 3 and outs["acceptsFrom"] == ["retail/frontdesk"]
    assert admin.get_topic(topic) == TopicSpec(topic, queues=3)
    assert admin.topic_routed(topic)

    read_id, read_outs, _ = host.read("topic", id_, outs)
    assert read_id == id_ and read_outs["queues"] == 3 and read_outs["messageType"] == "NORMAL"
    assert host.diff("topic", id_, read_outs, props).changes == 1  # DIFF_NONE

    wider = checked(host, TOPIC, "topic", topic_inputs(topic, queues=6, messageType="FIFO"))
    diff = host.diff("topic", id_, outs, wider)
    assert diff.changes == diff.DIFF_SOME and list(diff.replaces) == []
    outs = host.update("topic", id_, outs, wider)
    assert admin.get_topic(topic) == TopicSpec(topic, queues=6, message_type="FIFO")

    # only descriptive inputs change: an update, the broker's topic unchanged
    described = checked(host, TOPIC, "topic", topic_inputs(topic, queues=6, messageType="FIFO",
                                                           acceptsFrom=["retail/frontdesk", "retail/audit"]))
    assert host.diff("topic", id_, outs, described).changes == diff.DIFF_SOME

    compacted = checked(host, TOPIC, "topic", topic_inputs(topic, queues=6, messageType="FIFO",
                                                           cleanupPolicy="COMPACTION"))
    diff = host.diff("topic", id_, outs, compacted)
    assert list(diff.replaces) == ["cleanupPolicy"] and diff.deleteBeforeReplace

    host.delete("topic", id_, outs)
    assert admin.get_topic(topic) is None and not admin.topic_routed(topic)
    host.delete("topic", id_, outs)  # already gone: fine
    assert host.read("topic", id_, outs)[0] == ""


def test_refresh_shows_a_topic_changed_behind_the_stacks_back(admin, host, name):
    topic = name("drift")
    props = checked(host, TOPIC, "topic", topic_inputs(topic, queues=2))
    id_, outs = host.create("topic", props)
    admin.update_topic(TopicSpec(topic, queues=8, message_type="DELAY"))
    _, read_outs, read_inputs = host.read("topic", id_, outs)
    assert (read_outs["queues"], read_outs["messageType"]) == (8, "DELAY")
    assert read_inputs["queues"] == 8
    diff = host.diff("topic", id_, read_outs, props)
    assert diff.changes == diff.DIFF_SOME and list(diff.replaces) == []
    outs = host.update("topic", id_, read_outs, props)  # `pulumi up` puts it back
    assert admin.get_topic(topic) == TopicSpec(topic, queues=2)
    host.delete("topic", id_, outs)


def test_conflicting_topic_is_refused_by_name_and_left_unchanged(admin, host, name):
    topic = name("taken")
    admin.create_topic(TopicSpec(topic, queues=2))
    with pytest.raises(ProviderCallError) as raised:
        host.create("topic", checked(host, TOPIC, "topic", topic_inputs(topic, queues=8, messageType="DELAY")))
    details = one_line(raised.value.details)
    assert f"TopicConflict: topic {topic} already exists with other settings" in details
    assert "queues is 2, declared 8" in details and "declared 'DELAY'" in details
    assert admin.get_topic(topic) == TopicSpec(topic, queues=2)
    # the identical topic is adopted
    id_, outs = host.create("topic", checked(host, TOPIC, "topic", topic_inputs(topic, queues=2)))
    host.delete("topic", id_, outs)
    assert admin.get_topic(topic) is None


# ------------------------------------------------------------------ consumer groups


def test_group_lifecycle_and_conflict(admin, host, name):
    group = name("workers")
    props = checked(host, GROUP, "group", group_inputs(group))
    id_, outs = host.create("group", props)
    assert admin.get_group(group) == GroupSpec(group, max_retries=3, retry_policy=RetryPolicy(
        kind="EXPONENTIAL", initial_ms=500, max_ms=10000, multiplier=3))
    _, read_outs, _ = host.read("group", id_, outs)
    assert host.diff("group", id_, read_outs, props).changes == 1  # DIFF_NONE

    fifo = checked(host, GROUP, "group", group_inputs(group, maxRetries=5, orderly=True,
                                                      retryPolicy={"kind": "CUSTOMIZED", "nextMs": [1000, 5000]}))
    diff = host.diff("group", id_, outs, fifo)
    assert diff.changes == diff.DIFF_SOME and list(diff.replaces) == []
    outs = host.update("group", id_, outs, fifo)
    got = admin.get_group(group)
    assert (got.max_retries, got.orderly, got.retry_policy) == (5, True, RetryPolicy(kind="CUSTOMIZED", next_ms=(1000, 5000)))
    _, read_outs, _ = host.read("group", id_, outs)
    assert read_outs["retryPolicy"] == {"kind": "CUSTOMIZED", "nextMs": [1000, 5000]}
    assert host.diff("group", id_, read_outs, fifo).changes == 1

    # drift: someone lowers the retries
    admin.put_group(GroupSpec(group, max_retries=1, orderly=True, retry_policy=RetryPolicy(next_ms=(1000, 5000))))
    _, read_outs, _ = host.read("group", id_, outs)
    assert read_outs["maxRetries"] == 1 and host.diff("group", id_, read_outs, fifo).changes == diff.DIFF_SOME

    # someone else's group of that name, other settings: refused, left as it is
    other = name("theirs")
    admin.put_group(GroupSpec(other, max_retries=7))
    with pytest.raises(ProviderCallError) as raised:
        host.create("group", checked(host, GROUP, "group", group_inputs(other)))
    details = one_line(raised.value.details)
    assert f"QueueConflict: consumer group {other} already exists with other settings: maxRetries is 7, declared 3" in details
    assert admin.get_group(other).max_retries == 7

    host.delete("group", id_, outs)
    assert admin.get_group(group) is None
    assert host.read("group", id_, outs)[0] == ""


# ------------------------------------------------------------------ users


def test_user_publishes_where_its_acl_allows_and_nowhere_else(rocketmq, admin, host, name, caplog):
    allowed, denied = name("a2a"), name("other")
    topics = [host.create("topic", checked(host, TOPIC, "topic", topic_inputs(t))) for t in (allowed, denied)]
    username = name("agent")
    props = checked(host, USER, "user", user_inputs(username, [{"resource": f"Topic:{allowed}", "actions": ["Pub"]}]))
    id_, outs = host.create("user", props)
    assert "password" not in json.dumps(outs).lower()  # no password in state
    password = derive_password(SEED, username)
    user = admin.get_user(username)
    assert (user["password"], user["userType"]) == (password, "Normal")
    assert admin.get_acl(username)["policies"][0]["entries"] == [
        {"resource": f"Topic:{allowed}", "actions": ["Pub"], "decision": "Allow"}]

    # the official client, with the password the program derives for the agent's Secret
    assert _send(rocketmq, username, password, allowed, b'{"task": "summarise"}')
    caplog.clear()
    with pytest.raises(Exception, match=f"failed to fetch topic:{denied} route"):
        _send(rocketmq, username, password, denied, b"not allowed")
    assert f"40100, User:{username} has no permission to access Topic:{denied}" in _server_answers(caplog)

    _, read_outs, _ = host.read("user", id_, outs)
    assert read_outs["entries"] == [{"resource": f"Topic:{allowed}", "actions": ["Pub"], "decision": "Allow"}]
    assert host.diff("user", id_, read_outs, props).changes == 1  # DIFF_NONE

    # move the permission: the ACL becomes exactly the declared one (the old entry is removed)
    moved = checked(host, USER, "user", user_inputs(username, [{"resource": f"Topic:{denied}", "actions": ["Pub"]},
                                                               {"resource": f"Group:{name('g')}", "actions": ["Sub"]}]))
    assert host.diff("user", id_, outs, moved).changes == 2  # DIFF_SOME
    outs = host.update("user", id_, outs, moved)
    assert host.read("user", id_, outs)[1]["entries"] == sorted(
        [{"resource": e["resource"], "actions": e["actions"], "decision": "Allow"} for e in moved["entries"]],
        key=lambda e: e["resource"])
    assert _send(rocketmq, username, password, denied, b"allowed now")

    # rotate: version 2 is another password; version 1's stops working
    rotated = checked(host, USER, "user", {**moved, "credentialVersion": 2})
    outs = host.update("user", id_, outs, rotated)
    new_password = derive_password(SEED, username, 2)
    assert new_password != password and admin.get_user(username)["password"] == new_password
    assert _send(rocketmq, username, new_password, denied, b"after rotation")

    host.delete("user", id_, outs)
    assert admin.get_user(username) is None and admin.get_acl(username) is None
    assert host.read("user", id_, outs)[0] == ""
    host.delete("user", id_, outs)  # already gone: fine
    for (tid, touts) in topics:
        host.delete("topic", tid, touts)


def test_user_whose_acl_fails_leaves_no_user_behind(admin, host, name):
    username = name("halfmade")
    # past check (the engine would have refused it there): the broker refuses the decision
    bad = host.props(USER, user_inputs(username, [{"resource": "Topic:x", "actions": ["Pub"], "decision": "Maybe"}]))
    with pytest.raises(ProviderCallError) as raised:
        host.create("user", bad)
    details = one_line(raised.value.details)
    assert f"acl of {username}: create" in details
    assert admin.get_user(username) is None and admin.get_acl(username) is None


def test_existing_user_is_refused_unless_it_has_the_derived_password(admin, host, name):
    theirs = name("theirs")
    admin.create_user(UserSpec(theirs, "their-password"))
    with pytest.raises(ProviderCallError) as raised:
        host.create("user", checked(host, USER, "user", user_inputs(theirs, [{"resource": "Topic:x", "actions": ["Pub"]}])))
    details = one_line(raised.value.details)
    assert f"RocketMQ user {theirs!r} already exists" in details and "not this stack's" in details
    assert "their-password" not in details
    assert admin.get_user(theirs)["password"] == "their-password" and admin.get_acl(theirs) is None

    ours = name("ours")  # e.g. made by a create whose answer was lost
    admin.create_user(UserSpec(ours, derive_password(SEED, ours)))
    props = checked(host, USER, "user", user_inputs(ours, [{"resource": "Topic:x", "actions": ["Pub", "Sub"]}]))
    id_, outs = host.create("user", props)
    assert admin.get_acl(ours)["policies"][0]["entries"][0]["resource"] == "Topic:x"
    host.delete("user", id_, outs)
    admin.delete_user(theirs)


def test_refresh_shows_a_password_changed_behind_the_stacks_back(admin, host, name):
    username = name("reset")
    props = checked(host, USER, "user", user_inputs(username, [{"resource": "Topic:x", "actions": ["Sub"]}]))
    id_, outs = host.create("user", props)
    admin.update_user(UserSpec(username, "someone-reset-it"))
    admin.delete_acl(username, ["Topic:x"])
    _, read_outs, _ = host.read("user", id_, outs)
    assert read_outs["credentialVersion"] == 0 and read_outs["entries"] == []
    assert host.diff("user", id_, read_outs, props).changes == 2  # DIFF_SOME
    outs = host.update("user", id_, read_outs, props)
    assert admin.get_user(username)["password"] == derive_password(SEED, username)
    assert acl_resources(admin, username) == ["Topic:x"]
    host.delete("user", id_, outs)


def acl_resources(admin, username: str) -> list[str]:
    acl = admin.get_acl(username) or {}
    return sorted(e["resource"] for p in acl.get("policies") or [] for e in p.get("entries") or [])


# ------------------------------------------------------------------ faults


def test_nothing_listening_is_a_one_line_error_naming_the_endpoint(rocketmq, admin, name):
    closed = f"127.0.0.1:{free_port()}"
    topic = name("never")
    with DynamicProviderHost(queue_config(rocketmq, namesrvAddr=closed, timeoutSeconds=2)) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("topic", h.props(TOPIC, topic_inputs(topic)))
    details = one_line(raised.value.details)
    assert details.startswith(f"BrokerUnreachable: QueueTopic '{topic}': RocketMQ is unreachable (name server {closed})")
    assert f"cannot connect to {closed}" in details
    # a broker given directly but down: named too
    with DynamicProviderHost(queue_config(rocketmq, brokers=[closed], timeoutSeconds=2)) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("user", h.props(USER, user_inputs(name("u"), [])))
    details = one_line(raised.value.details)
    assert f"brokers {closed}" in details and f"cannot connect to {closed}" in details
    assert admin.get_topic(topic) is None


def test_wrong_admin_password_is_a_clear_error(rocketmq, admin, name):
    topic = name("denied")
    with DynamicProviderHost(queue_config(rocketmq, password="definitely-wrong-password")) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("topic", h.props(TOPIC, topic_inputs(topic)))
    details = one_line(raised.value.details)
    assert f"QueueTopic '{topic}': the broker at {rocketmq.broker_addr} refused the admin user " \
           f"'{rocketmq.admin_user}' (check signature failed)" in details
    assert "agent-runtime:messageQueueAdminPassword" in details
    assert "definitely-wrong-password" not in details
    assert admin.get_topic(topic) is None


def test_missing_seed_is_named_with_the_fix(rocketmq, name):
    with DynamicProviderHost(queue_config(rocketmq, seed=None)) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("user", h.props(USER, user_inputs(name("u"), [])))
    details = one_line(raised.value.details)
    assert details.startswith("QueueConfigError: agent-runtime:messageQueueCredentialSeed is not set")
    assert "scripts/stack.py init-secrets --stack <s>" in details


def test_check_names_the_property_without_calling_the_broker(rocketmq):
    # a host pointed nowhere: check must not need the cluster
    with DynamicProviderHost(queue_config(rocketmq, namesrvAddr=f"127.0.0.1:{free_port()}")) as h:
        _, failures = h.check("topic", {}, h.props(TOPIC, topic_inputs("bad name!", queues=2000, kind="jobs")))
        assert {p for p, _ in failures} == {"topic", "queues", "kind"}
        _, failures = h.check("user", {}, h.props(USER, user_inputs("u1", [{"resource": "Topic:t", "actions": ["Fly"]}])))
        assert failures == [("entries", "entries[0].actions: must be a non-empty list of "
                                        "Pub, Sub, Create, Update, Delete, Get, List, All, not ['Fly']")]


# ------------------------------------------------------------------ cost


def test_per_call_cost_through_the_host(admin, host, name, capsys):
    """Each operation through the real host takes milliseconds (recorded in docs/rocketmq-observed.md)."""
    topic, group, username = name("timed"), name("timed"), name("timed")
    timings: dict[str, float] = {}

    def timed(label, fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        timings[label] = (time.perf_counter() - t0) * 1000
        return result

    tprops = timed("topic check", host.check, "t", {}, host.props(TOPIC, topic_inputs(topic)))[0]
    tid, touts = timed("topic create", host.create, "t", tprops)
    timed("topic diff", host.diff, "t", tid, touts, tprops)
    timed("topic read", host.read, "t", tid, touts)
    wider = {**tprops, "queues": 8}
    touts = timed("topic update", host.update, "t", tid, touts, wider)
    gprops = host.check("g", {}, host.props(GROUP, group_inputs(group)))[0]
    gid, gouts = timed("group create", host.create, "g", gprops)
    timed("group read", host.read, "g", gid, gouts)
    uprops = host.check("u", {}, host.props(USER, user_inputs(username, [{"resource": f"Topic:{topic}", "actions": ["Pub"]}])))[0]
    uid, uouts = timed("user create", host.create, "u", uprops)
    timed("user read", host.read, "u", uid, uouts)
    uouts = timed("user update", host.update, "u", uid, uouts, {**uprops, "credentialVersion": 2})
    timed("user delete", host.delete, "u", uid, uouts)
    timed("group delete", host.delete, "g", gid, gouts)
    timed("topic delete", host.delete, "t", tid, touts)
    with capsys.disabled():
        print("\nper-call ms through the host: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    assert max(timings.values()) < 5000, timings
    assert admin.get_topic(topic) is None and admin.get_group(group) is None and admin.get_user(username) is None


@pytest.mark.parametrize("first", ["nacos", "rocketmq"])
def test_errors_stay_one_line_when_the_nacos_providers_share_the_host(rocketmq, name, first):
    """A program's dynamic resources share one provider host: both modules patch its error
    formatting, in either order, and each provider's errors stay one line."""
    from nacos_registry.provider import NamespaceProvider

    closed = f"127.0.0.1:{free_port()}"
    ns = {"registryKind": "Namespace", "namespaceId": "t-1", "namespaceName": "t-1", "description": ""}
    with DynamicProviderHost(queue_config(rocketmq, namesrvAddr=closed, timeoutSeconds=2)) as h:
        loads = [lambda: h.check("ns", {}, h.props(NamespaceProvider(), ns)),
                 lambda: h.check("topic", {}, h.props(TOPIC, topic_inputs(name("t"))))]
        for load in loads if first == "nacos" else reversed(loads):
            load()
        with pytest.raises(ProviderCallError) as raised:
            h.create("topic", h.props(TOPIC, topic_inputs(name("t"))))
        assert one_line(raised.value.details).startswith("BrokerUnreachable: QueueTopic")
        with pytest.raises(ProviderCallError) as raised:  # no registry configured in this host
            h.create("ns", h.props(NamespaceProvider(), ns))
        assert one_line(raised.value.details).startswith("RegistryConfigError: agent-runtime:registry")


def test_zz_cluster_stopped_under_a_working_host_is_a_one_line_error(rocketmq, host, name):
    """Last in this module: it stops the module's broker. The host worked a moment ago; then the
    broker stops (the name server may still route to it), then the name server."""
    topic = name("orphan")
    id_, outs = host.create("topic", checked(host, TOPIC, "topic", topic_inputs(topic)))
    broker = rocketmq.proxy
    broker.terminate()
    broker.wait(timeout=60)
    rocketmq.proxy = None
    with pytest.raises(ProviderCallError) as raised:
        host.read("topic", id_, outs)
    details = one_line(raised.value.details)
    assert details.startswith(f"BrokerUnreachable: QueueTopic '{topic}': RocketMQ is unreachable") or \
        details.startswith(f"AdminError: QueueTopic '{topic}': cluster {rocketmq.cluster}: no master broker "
                           f"registered at name server {rocketmq.namesrv_addr}"), details
    rocketmq.stop()
    with pytest.raises(ProviderCallError) as raised:
        host.delete("topic", id_, outs)
    details = one_line(raised.value.details)
    assert details.startswith(f"BrokerUnreachable: QueueTopic '{topic}': RocketMQ is unreachable "
                              f"(name server {rocketmq.namesrv_addr})")
    assert f"cannot connect to {rocketmq.namesrv_addr}" in details
