"""rocketmq_provider without a broker: settings, derived passwords, check, diff, one-line errors.

The real-broker, real-host tests are tests/broker/test_queue_provider.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import traceback

import pytest
from pulumi.dynamic import ConfigureRequest

from rocketmq_provider import host_errors
from rocketmq_provider.credentials import derive_password
from rocketmq_provider.provider import (QueueConsumerGroupProvider, QueueTopicProvider, QueueUserProvider,
                                        entries_view)
from rocketmq_provider.settings import (QueueAdminSettings, QueueConfigError, connection_from_config,
                                        getter_from_mapping)

SEED = "unit-test-seed-0123456789"


def config(admin=None, password="adminpw", seed=SEED, **outside) -> dict:
    values = {"messageQueue": {"enabled": True, "admin": admin if admin is not None else {"namesrvAddr": "10.0.0.5:9876"},
                               **outside}}
    if password:
        values["messageQueueAdminPassword"] = password
    if seed:
        values["messageQueueCredentialSeed"] = seed
    return values


# ------------------------------------------------------------------ settings


def test_settings_block_camel_case_defaults_and_unknown_keys_outside_admin_ignored():
    conn = connection_from_config(getter_from_mapping(config(
        {"namesrvAddr": "rocketmq-namesrv.mq:9876", "brokers": ["10.0.0.7:10911"], "cluster": "C1",
         "adminUser": "root-admin", "timeoutSeconds": 2.5},
        topics={"whatever": 1}, image="apache/rocketmq:5.3.3")))
    assert (conn.namesrv_addr, conn.brokers, conn.cluster, conn.admin_user, conn.timeout_seconds) == \
        ("rocketmq-namesrv.mq:9876", ("10.0.0.7:10911",), "C1", "root-admin", 2.5)
    assert (conn.admin_password, conn.credential_seed) == ("adminpw", SEED)
    assert "adminpw" not in repr(conn) and SEED not in repr(conn)
    assert conn.endpoint == "name server rocketmq-namesrv.mq:9876, brokers 10.0.0.7:10911"
    defaults = QueueAdminSettings()
    assert (defaults.cluster, defaults.admin_user, defaults.timeout_seconds, defaults.brokers) == \
        (None, "rocketmq-admin", 10.0, [])
    # without its own, the admin block administers the cluster the stack deploys
    assert connection_from_config(getter_from_mapping(config({"namesrvAddr": "h:1"}))).cluster == "agent-runtime"
    assert connection_from_config(getter_from_mapping(config({"namesrvAddr": "h:1"}, cluster="mine"))).cluster == "mine"
    assert QueueAdminSettings(namesrv_addr="h:1").namesrv_addr == "h:1"  # populate by name
    # the engine may hand the block over as a JSON string
    assert connection_from_config(lambda k: json.dumps(config()[k]) if k == "messageQueue" else config().get(k)).namesrv_addr == "10.0.0.5:9876"


@pytest.mark.parametrize("admin, named", [
    ({"namesrvAddr": "http://10.0.0.5:9876"}, "namesrvAddr"),
    ({"namesrvAddr": "10.0.0.5"}, "namesrvAddr"),
    ({"namesrvAddr": "10.0.0.5:70000"}, "namesrvAddr"),
    ({"namesrvAddr": "h:1", "brokers": ["h:1", "nope"]}, "brokers.1"),
    ({"namesrvAddr": "h:1", "timeoutSeconds": 0}, "timeoutSeconds"),
    ({"namesrvAddr": "h:1", "timeoutSeconds": 301}, "timeoutSeconds"),
    ({"namesrvAddr": "h:1", "adminPassword": "x"}, "adminPassword"),  # extra=forbid: secrets are not here
])
def test_invalid_admin_block_names_the_key(admin, named):
    with pytest.raises(QueueConfigError, match=rf"agent-runtime:messageQueue\.admin is invalid: .*{named}"):
        connection_from_config(getter_from_mapping(config(admin)))


def test_missing_pieces_are_named_with_the_fix():
    with pytest.raises(QueueConfigError, match=r"messageQueue\.admin\.namesrvAddr is not set"):
        connection_from_config(getter_from_mapping(config({})))
    with pytest.raises(QueueConfigError, match=r"messageQueue\.admin\.namesrvAddr is not set"):
        connection_from_config(getter_from_mapping({}))
    with pytest.raises(QueueConfigError, match=r"agent-runtime:messageQueueAdminPassword is not set: "
                                               r"`pulumi config set --secret messageQueueAdminPassword"):
        connection_from_config(getter_from_mapping(config(password=None)))
    with pytest.raises(QueueConfigError, match=r"agent-runtime:messageQueueCredentialSeed is not set: "
                                               r"`venv/bin/python scripts/stack.py init-secrets --stack <s>`"):
        connection_from_config(getter_from_mapping(config(seed=None)))
    with pytest.raises(QueueConfigError, match="shorter than 16"):
        connection_from_config(getter_from_mapping(config(seed="short")))
    with pytest.raises(QueueConfigError, match="is not JSON"):
        connection_from_config(lambda k: "{nope" if k == "messageQueue" else None)


def test_unconfigured_provider_refuses_with_the_config_error_without_network():
    provider = QueueTopicProvider()
    provider.configure(ConfigureRequest(config=_Config({"agent-runtime:messageQueueAdminPassword": "x"})))
    with pytest.raises(QueueConfigError, match="namesrvAddr is not set"):
        provider.create({"topic": "t", "queues": 1})


class _Config:
    def __init__(self, values):
        self.values = values

    def get(self, key):
        return self.values.get(key)


# ------------------------------------------------------------------ derived passwords


def test_derive_password_is_hmac_sha256_base64url_without_padding():
    expected = base64.urlsafe_b64encode(
        hmac.new(b"s" * 20, b"agent-runtime/rocketmq/retail-orders", hashlib.sha256).digest()).decode().rstrip("=")
    got = derive_password("s" * 20, "retail-orders")
    assert got == expected and len(got) == 43 and "=" not in got
    assert set(got) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert derive_password("s" * 20, "retail-orders", 1) == got  # version 1 is the plain label
    v2 = derive_password("s" * 20, "retail-orders", 2)
    assert v2 != got and v2 == base64.urlsafe_b64encode(hmac.new(
        b"s" * 20, b"agent-runtime/rocketmq/retail-orders/v2", hashlib.sha256).digest()).decode().rstrip("=")
    assert derive_password("t" * 20, "retail-orders") != got
    assert derive_password("s" * 20, "retail-order") != got


@pytest.mark.parametrize("seed, user, version", [("", "u", 1), ("s", "", 1), ("s", "u", 0), ("s", "u", True), ("s", "u", 1.5)])
def test_derive_password_refuses_nonsense(seed, user, version):
    with pytest.raises(ValueError):
        derive_password(seed, user, version)


# ------------------------------------------------------------------ check (no network: no configure)


def checked(provider, news: dict):
    result = provider.check({}, news)
    return result.inputs, result.failures


def test_topic_check_fills_defaults_and_names_each_bad_property():
    news, failures = checked(QueueTopicProvider(), {"topic": "tasks-1", "queues": 4.0})
    assert failures == []
    assert news == {"topic": "tasks-1", "queues": 4, "messageType": "NORMAL", "cleanupPolicy": "DELETE", "acceptsFrom": []}
    _, failures = checked(QueueTopicProvider(), {
        "topic": "%RETRY%x", "queues": 0, "messageType": "LIFO", "cleanupPolicy": "KEEP", "kind": "jobs",
        "tenant": "", "acceptsFrom": ["retail"]})
    assert sorted(f.property for f in failures) == sorted(
        ["topic", "queues", "messageType", "cleanupPolicy", "kind", "tenant", "acceptsFrom"])
    reasons = {f.property: f.reason for f in failures}
    assert "names are 1-127 of A-Z a-z 0-9 _ -" in reasons["topic"]
    assert reasons["queues"] == "must be an integer 1..1024, not 0"
    for queues in (1025, 2.5, "4", True, None):
        assert [f.property for f in QueueTopicProvider().check({}, {"topic": "t", "queues": queues}).failures] == ["queues"]
    assert QueueTopicProvider().check({}, {"topic": "t", "queues": 1024, "kind": None, "tenant": None}).failures == []


def test_group_check_validates_ranges_and_retry_policy():
    news, failures = checked(QueueConsumerGroupProvider(), {"group": "g", "maxRetries": 3.0})
    assert failures == []
    assert news["maxRetries"] == 3 and news["orderly"] is False
    assert news["retryPolicy"] == {"kind": "EXPONENTIAL", "initialMs": 1000, "maxMs": 60000, "multiplier": 2}
    news, failures = checked(QueueConsumerGroupProvider(), {"group": "g", "retryPolicy": {"kind": "CUSTOMIZED", "nextMs": [1000.0]}})
    assert failures == [] and news["retryPolicy"] == {"kind": "CUSTOMIZED", "nextMs": [1000]}
    for bad, prop in (({"maxRetries": 17}, "maxRetries"), ({"maxRetries": -1}, "maxRetries"), ({"group": "a b"}, "group"),
                      ({"orderly": "yes"}, "orderly"),
                      ({"retryPolicy": {"kind": "LINEAR"}}, "retryPolicy"),
                      ({"retryPolicy": {"kind": "EXPONENTIAL", "initialMs": 5000, "maxMs": 1000}}, "retryPolicy"),
                      ({"retryPolicy": {"kind": "EXPONENTIAL", "multiplier": 0}}, "retryPolicy"),
                      ({"retryPolicy": {"kind": "EXPONENTIAL", "nextMs": [1]}}, "retryPolicy"),
                      ({"retryPolicy": {"kind": "CUSTOMIZED", "initialMs": 5}}, "retryPolicy"),
                      ({"retryPolicy": {"kind": "CUSTOMIZED", "nextMs": [0]}}, "retryPolicy")):
        failures = QueueConsumerGroupProvider().check({}, {"group": "g", **bad}).failures
        assert [f.property for f in failures] == [prop], (bad, failures)


def test_user_check_validates_entries():
    ok = {"username": "retail-orders", "entries": [{"resource": "Topic:t", "actions": ["Pub"]},
                                                   {"resource": "Group:g*", "actions": ["Sub"], "decision": "Deny"},
                                                   {"resource": "Topic:*", "actions": ["Get", "List"]},
                                                   {"resource": "Topic:%DLQ%retail_orders_workers", "actions": ["Sub"]}]}
    news, failures = checked(QueueUserProvider(), ok)
    assert failures == [] and news["credentialVersion"] == 1
    bad = {"username": "retail orders", "credentialVersion": 0, "entries": [
        {"resource": "Cluster:c", "actions": ["Pub"]},
        {"resource": "Topic:%RETRY%g", "actions": ["Sub"]},
        {"resource": "Topic:t", "actions": []},
        {"resource": "Topic:t", "actions": ["Pub"], "decision": "Maybe"},
        {"resource": "Topic:u", "actions": ["Fly", "Pub"], "extra": 1},
        "Topic:v"]}
    failures = QueueUserProvider().check({}, bad).failures
    reasons = [f.reason for f in failures if f.property == "entries"]
    assert {f.property for f in failures} == {"username", "credentialVersion", "entries"}
    assert any(r.startswith("entries[0].resource: must be Topic:<name>") for r in reasons)
    assert any(r.startswith("entries[1].resource: must be Topic:<name>") for r in reasons)  # only dead letters carry a %
    assert any(r.startswith("entries[2].actions: must be a non-empty list") for r in reasons)
    assert "entries[3].resource: Topic:t is declared twice" in reasons
    assert "entries[3].decision: must be Allow or Deny, not 'Maybe'" in reasons
    assert any(r.startswith("entries[4].actions") and "not ['Fly']" in r for r in reasons)
    assert "entries[4]: unknown keys ['extra']" in reasons
    assert any(r.startswith("entries[5]: must be an object") for r in reasons)


# ------------------------------------------------------------------ diff (pure)


def test_topic_diff_replaces_on_name_and_cleanup_policy_only_and_ignores_the_provider():
    p = QueueTopicProvider()
    olds = {"topic": "t", "queues": 4.0, "messageType": "NORMAL", "cleanupPolicy": "DELETE", "acceptsFrom": ["a/b", "c/d"],
            "__provider": "old-pickle"}
    same = {**olds, "queues": 4, "acceptsFrom": ["c/d", "a/b"], "__provider": "new-pickle"}
    assert p.diff("t", olds, same).changes is False
    d = p.diff("t", olds, {**olds, "queues": 8, "messageType": "FIFO"})
    assert d.changes and d.replaces == [] and d.stables == ["topic", "cleanupPolicy"]
    d = p.diff("t", olds, {**olds, "cleanupPolicy": "COMPACTION"})
    assert d.replaces == ["cleanupPolicy"] and d.delete_before_replace
    d = p.diff("t", olds, {**olds, "topic": "t2"})
    assert d.replaces == ["topic"]
    assert p.diff("t", olds, {**olds, "tenant": "other"}).changes  # descriptive: an update


def test_group_diff_compares_retry_policies_as_the_broker_keeps_them():
    p = QueueConsumerGroupProvider()
    olds = {"group": "g", "maxRetries": 3.0, "orderly": False,
            "retryPolicy": {"kind": "EXPONENTIAL", "initialMs": 1000.0, "maxMs": 60000.0, "multiplier": 2.0}}
    assert p.diff("g", olds, {**olds, "maxRetries": 3, "retryPolicy": {"kind": "EXPONENTIAL"}}).changes is False
    assert p.diff("g", olds, {**olds, "retryPolicy": {"kind": "EXPONENTIAL", "multiplier": 3}}).changes
    assert p.diff("g", olds, {**olds, "group": "h"}).replaces == ["group"]


def test_user_diff_normalizes_entries_and_versions():
    p = QueueUserProvider()
    olds = {"username": "u", "credentialVersion": 1.0, "entries": [
        {"resource": "Topic:b", "actions": ["Sub", "Pub"], "decision": "Allow"}, {"resource": "Topic:a", "actions": ["Pub"]}]}
    news = {"username": "u", "credentialVersion": 1, "entries": [
        {"resource": "Topic:a", "actions": ["Pub"], "decision": "Allow"}, {"resource": "Topic:b", "actions": ["Pub", "Sub"]}]}
    assert p.diff("u", olds, news).changes is False
    assert entries_view(olds["entries"])[0] == {"resource": "Topic:a", "actions": ["Pub"], "decision": "Allow"}
    d = p.diff("u", olds, {**news, "credentialVersion": 2})
    assert d.changes and d.replaces == []
    assert p.diff("u", olds, {**news, "entries": news["entries"][:1]}).changes
    assert p.diff("u", olds, {**news, "username": "v"}).replaces == ["username"]


# ------------------------------------------------------------------ one-line errors in the host


def test_report_by_message_chains_with_another_patch_in_either_order():
    original = traceback.format_exc

    class Mine(Exception):
        pass

    class Theirs(Exception):
        pass

    def nacos_style(other_types):
        current = traceback.format_exc

        def format_exc(*a, _original=current, **k):
            import sys
            error = sys.exc_info()[1]
            if isinstance(error, other_types):
                return f"{type(error).__name__}: {error}"
            return _original(*a, **k)
        traceback.format_exc = format_exc

    def formatted(error):
        try:
            raise error
        except Exception:
            return traceback.format_exc()

    try:
        for order in ("mine first", "theirs first"):
            traceback.format_exc = original
            if order == "mine first":
                host_errors.report_by_message(Mine, force=True)
                nacos_style((Theirs,))
            else:
                nacos_style((Theirs,))
                host_errors.report_by_message(Mine, force=True)
            assert formatted(Mine("endpoint x\nsecond line")) == "Mine: endpoint x second line"
            assert formatted(Theirs("y")) == "Theirs: y"
            assert formatted(KeyError("bug")).startswith("Traceback")
        host_errors.report_by_message(KeyError, force=True)  # more types join the same patch
        assert formatted(KeyError("z")) == "KeyError: 'z'"
    finally:
        traceback.format_exc = original
    host_errors.report_by_message(Mine)  # outside the provider host: no patch
    assert traceback.format_exc is original


def test_providers_are_pickled_by_reference_and_carry_nothing():
    """What lands in every resource's __provider: a reference to rocketmq_provider.provider (so that
    module must never move) and no configuration or secret."""
    from pulumi.dynamic.dynamic import serialize_provider

    for provider in (QueueTopicProvider(), QueueConsumerGroupProvider(), QueueUserProvider()):
        raw = base64.b64decode(serialize_provider(provider))
        assert b"rocketmq_provider.provider" in raw and type(provider).__name__.encode() in raw
        assert len(raw) < 80, raw


def test_check_lets_values_not_known_yet_through_during_preview():
    from pulumi.runtime.rpc import UNKNOWN

    news, failures = checked(QueueTopicProvider(), {"topic": UNKNOWN, "queues": UNKNOWN, "acceptsFrom": [UNKNOWN]})
    assert failures == [] and news["queues"] == UNKNOWN
    _, failures = checked(QueueUserProvider(), {"username": "u", "entries": [{"resource": UNKNOWN, "actions": ["Pub"]}]})
    assert failures == []
    _, failures = checked(QueueConsumerGroupProvider(), {"group": "g", "retryPolicy": {"kind": "EXPONENTIAL", "initialMs": UNKNOWN}})
    assert failures == []
    # a known bad value next to an unknown one is still reported
    _, failures = checked(QueueTopicProvider(), {"topic": UNKNOWN, "queues": 0})
    assert [f.property for f in failures] == ["queues"]
