"""Live configuration items and their read-only users, through Pulumi's real dynamic-provider host, against a real Nacos 3.1.

Checked from outside the providers: raw HTTP calls as the admin and as the reader, and
nacos-sdk-python subscribed over gRPC with the reader's credentials, as an agent is.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import nacos_server as nacos_mod
import pytest

from dynamic_host import ProviderCallError
from nacos_registry.provider import ConfigItemProvider, ReaderProvider

GROUP = "agent-runtime"


def item_inputs(namespace: str, data_id: str, content: dict) -> dict:
    return {
        "registryKind": "ConfigItem",
        "namespaceId": namespace,
        "group": GROUP,
        "dataId": data_id,
        "content": json.dumps(content, sort_keys=True),
        "type": "json",
        "description": "test",
    }


def reader_inputs(username: str, namespace: str) -> dict:
    # the whole namespace's configuration, read only: Nacos 3.1 authorizes an SDK's batch listen
    # only so (measured: narrower patterns leave the listener refused with 403)
    return {"registryKind": "Reader", "username": username, "resource": f"{namespace}:*:config/*", "password": None}


def admin_get(server, namespace: str, data_id: str) -> tuple[int, dict]:
    return server.request("GET", "/v3/admin/cs/config", {"namespaceId": namespace, "groupName": GROUP, "dataId": data_id})


def login(server, username: str, password: str) -> int:
    """The HTTP status of a login (200 ok; Nacos answers 403 or 500 otherwise)."""
    status, _ = server.request("POST", "/v3/auth/user/login", {"username": username, "password": password}, auth=False)
    return status


def as_user(server, username: str, password: str, method: str, path: str, params: dict) -> int:
    """One call with the user's own token; the HTTP status."""
    status, _ = nacos_mod.http(method, server.base_url + path, params, token=server.login(username, password))
    return status


def reader_get(server, username: str, password: str, namespace: str, data_id: str) -> int:
    return as_user(server, username, password, "GET", "/v3/client/cs/config", {"namespaceId": namespace, "groupName": GROUP, "dataId": data_id})


@pytest.fixture
def item(host, namespace):
    """A published item; deleted after the test (idempotently, whatever the test did)."""
    data_id = f"agent_{uuid.uuid4().hex[:8]}_1.0.0.json"
    props = host.props(ConfigItemProvider(), item_inputs(namespace, data_id, {"systemPrompt": {"text": "v1"}}))
    id_, outs = host.create("item", props)
    yield id_, props, outs
    host.delete("item", id_, props)


# ------------------------------------------------------------------ configuration items


def test_an_item_is_published_changed_in_place_and_deleted(nacos_server, host, namespace, item):
    id_, props, outs = item
    status, body = admin_get(nacos_server, namespace, props["dataId"])
    assert status == 200 and json.loads(body["data"]["content"]) == {"systemPrompt": {"text": "v1"}}

    news = {**props, "content": json.dumps({"systemPrompt": {"text": "v2"}}, sort_keys=True)}
    diff = host.diff("item", id_, outs, news)
    assert diff.changes == diff.DIFF_SOME and not diff.replaces
    host.update("item", id_, outs, news)
    assert json.loads(admin_get(nacos_server, namespace, props["dataId"])[1]["data"]["content"]) == {"systemPrompt": {"text": "v2"}}

    host.delete("item", id_, news)
    assert admin_get(nacos_server, namespace, props["dataId"])[0] == 404
    host.delete("item", id_, news)  # already gone: still done


def test_refresh_shows_content_changed_behind_the_stacks_back_and_a_deleted_item_as_gone(nacos_server, host, namespace, item):
    id_, props, outs = item
    nacos_server.request("POST", "/v3/admin/cs/config", {"namespaceId": namespace, "groupName": GROUP, "dataId": props["dataId"],
                                                         "content": '{"edited": "by hand"}', "type": "json"})
    _, read_outs, read_inputs = host.read("item", id_, outs)
    assert read_outs["content"] == '{"edited": "by hand"}'
    assert host.diff("item", id_, read_outs, props).changes == 2  # DIFF_SOME: the next up puts it back

    nacos_server.request("DELETE", "/v3/admin/cs/config", {"namespaceId": namespace, "groupName": GROUP, "dataId": props["dataId"]})
    gone_id, _, _ = host.read("item", id_, outs)
    assert gone_id == ""


def test_a_different_item_that_exists_is_refused_by_name_and_left_untouched(nacos_server, host, namespace):
    data_id = f"agent_{uuid.uuid4().hex[:8]}_1.0.0.json"
    theirs = '{"owner": "someone else"}'
    nacos_server.request("POST", "/v3/admin/cs/config", {"namespaceId": namespace, "groupName": GROUP, "dataId": data_id, "content": theirs, "type": "json"})
    props = host.props(ConfigItemProvider(), item_inputs(namespace, data_id, {"systemPrompt": {"text": "ours"}}))
    with pytest.raises(ProviderCallError) as refused:
        host.create("item", props)
    assert data_id in refused.value.details and namespace in refused.value.details and "Traceback" not in refused.value.details
    assert admin_get(nacos_server, namespace, data_id)[1]["data"]["content"] == theirs

    identical = host.props(ConfigItemProvider(), {**item_inputs(namespace, data_id, {}), "content": theirs})
    id_, _ = host.create("item", identical)  # the same content: adopted
    host.delete("item", id_, identical)


def test_check_refuses_a_bad_data_id_before_anything_is_sent(host, namespace):
    _, failures = host.check("item", {}, host.props(ConfigItemProvider(), item_inputs(namespace, "bad id/with slash", {"a": 1})))
    assert [f for f, _ in failures] == ["dataId"]


# ------------------------------------------------------------------ read-only users


@pytest.fixture
def reader(host, namespace):
    username = f"reader-{uuid.uuid4().hex[:8]}"
    props = host.props(ReaderProvider(), reader_inputs(username, namespace))
    id_, outs = host.create("reader", props)
    yield username, id_, props, outs
    host.delete("reader", id_, outs)


def test_a_reader_reads_its_tenants_items_only_and_writes_nothing(nacos_server, host, namespace, reader):
    username, _, _, outs = reader
    password = outs["password"]
    assert len(password) >= 24
    other = f"t-{uuid.uuid4().hex[:10]}"
    nacos_server.request("POST", "/v3/admin/core/namespace", {"namespaceId": other, "namespaceName": other})
    for ns_id in (namespace, other):
        nacos_server.request("POST", "/v3/admin/cs/config", {"namespaceId": ns_id, "groupName": GROUP, "dataId": "agent_a_1.0.0.json", "content": "{}", "type": "json"})
    try:
        assert reader_get(nacos_server, username, password, namespace, "agent_a_1.0.0.json") == 200
        assert reader_get(nacos_server, username, password, other, "agent_a_1.0.0.json") == 403
        write = {"namespaceId": namespace, "groupName": GROUP, "dataId": "agent_a_2.json", "content": "{}"}
        assert as_user(nacos_server, username, password, "POST", "/v3/admin/cs/config", write) == 403
    finally:
        nacos_server.request("DELETE", "/v3/admin/cs/config", {"namespaceId": other, "groupName": GROUP, "dataId": "agent_a_1.0.0.json"})
        nacos_server.request("DELETE", "/v3/admin/core/namespace", {"namespaceId": other})


def test_deleting_a_reader_removes_user_role_and_permission(nacos_server, host, namespace):
    username = f"reader-{uuid.uuid4().hex[:8]}"
    props = host.props(ReaderProvider(), reader_inputs(username, namespace))
    id_, outs = host.create("reader", props)
    assert login(nacos_server, username, outs["password"]) == 200
    host.delete("reader", id_, outs)
    assert login(nacos_server, username, outs["password"]) != 200
    status, body = nacos_server.request("GET", "/v3/auth/permission/list", {"pageNo": 1, "pageSize": 10, "role": username, "search": "accurate"})
    assert status == 200 and body["data"]["pageItems"] == []
    host.delete("reader", id_, outs)  # idempotent


def test_a_user_that_exists_is_refused_and_keeps_its_password(nacos_server, host, namespace):
    username = f"theirs-{uuid.uuid4().hex[:8]}"
    nacos_server.request("POST", "/v3/auth/user", {"username": username, "password": "their-own-password-1"})
    props = host.props(ReaderProvider(), reader_inputs(username, namespace))
    with pytest.raises(ProviderCallError) as refused:
        host.create("reader", props)
    assert username in refused.value.details and "already exists" in refused.value.details
    assert login(nacos_server, username, "their-own-password-1") == 200
    nacos_server.request("DELETE", "/v3/auth/user", {"username": username})


def test_refresh_shows_a_permission_removed_behind_the_stacks_back(nacos_server, host, namespace, reader):
    username, id_, props, outs = reader
    nacos_server.request("DELETE", "/v3/auth/permission", {"role": username, "resource": props["resource"], "action": "r"})
    _, read_outs, _ = host.read("reader", id_, outs)
    assert read_outs["resource"] != props["resource"]
    host.update("reader", id_, read_outs, {**props, "password": None})  # the next up grants it again
    status, body = nacos_server.request("GET", "/v3/auth/permission/list", {"pageNo": 1, "pageSize": 10, "role": username, "search": "accurate"})
    assert [p["resource"] for p in body["data"]["pageItems"]] == [props["resource"]]


# ------------------------------------------------------------------ an agent's subscription


def test_a_subscribed_agent_receives_the_new_content_with_its_reader_credentials(nacos_server, host, namespace):
    """nacos-sdk-python over gRPC, logged in as the reader: an update reaches the listener without any restart."""
    from v2.nacos import ClientConfigBuilder, ConfigParam, NacosConfigService

    data_id = f"agent_sub{uuid.uuid4().hex[:6]}_1.0.0.json"
    item = host.props(ConfigItemProvider(), item_inputs(namespace, data_id, {"systemPrompt": {"text": "before"}}))
    item_id, item_outs = host.create("item", item)
    username = f"reader-{uuid.uuid4().hex[:8]}"
    reader = host.props(ReaderProvider(), reader_inputs(username, namespace))
    reader_id, reader_outs = host.create("reader", reader)

    async def subscribe_and_wait() -> tuple[str, str]:
        config = (
            ClientConfigBuilder()
            .server_address(nacos_server.server_addr)
            .namespace_id(namespace)
            .username(username)
            .password(reader_outs["password"])
            .log_level("WARNING")
            .log_dir(str(nacos_server.data_dir / "client-logs"))
            .cache_dir(str(nacos_server.data_dir / f"client-cache-{username}"))
            .build()
        )
        service = await NacosConfigService.create_config_service(config)
        received: asyncio.Queue = asyncio.Queue()

        async def listener(_tenant, _group, _data_id, content):
            await received.put(content)

        try:
            first = await service.get_config(ConfigParam(data_id=data_id, group=GROUP))
            await service.add_listener(data_id, GROUP, listener)
            news = {**item, "content": json.dumps({"systemPrompt": {"text": "after"}}, sort_keys=True)}
            await asyncio.to_thread(host.update, "item", item_id, item_outs, news)
            pushed = await asyncio.wait_for(received.get(), timeout=30)
            return first, pushed
        finally:
            await service.shutdown()

    try:
        first, pushed = asyncio.run(asyncio.wait_for(subscribe_and_wait(), timeout=90))
        assert json.loads(first) == {"systemPrompt": {"text": "before"}}
        assert json.loads(pushed) == {"systemPrompt": {"text": "after"}}
    finally:
        host.delete("reader", reader_id, reader_outs)
        host.delete("item", item_id, item)
