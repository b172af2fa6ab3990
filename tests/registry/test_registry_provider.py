"""The Nacos registry providers, driven through Pulumi's real dynamic-provider host, against a real Nacos 3.1.

Results are checked with independent clients: raw admin HTTP calls, nacos-sdk-python's
gRPC AI client, and a2a-sdk's AgentCard model. Every fault case ends with a check
that nothing this stack did is left behind in Nacos.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from a2a.types import AgentCard as A2ACard

from dynamic_host import DynamicProviderHost, ProviderCallError, free_port as _free_port, registry_config as _config
from nacos_registry.provider import AgentCardProvider, McpServerProvider, NamespaceProvider


def card(name: str, version: str = "1.0.0", description: str = "answers retail questions") -> dict:
    return {
        "protocolVersion": "0.3.0",
        "name": name,
        "description": description,
        "version": version,
        "url": f"https://gateway.example.com/api/v1/internal/a2a/{name}",
        "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain", "text/event-stream"],
        "skills": [
            {"id": "chat-v1", "name": "chat", "description": "multi-turn chat", "tags": ["chat"], "examples": ["hello"]}
        ],
        "securitySchemes": {"internalJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "security": [{"internalJwt": []}],
        "provider": {"organization": "Agent Runtime", "url": "https://agent-runtime.example.com"},
    }


def card_inputs(namespace: str, c: dict) -> dict:
    return {
        "registryKind": "AgentCard",
        "namespaceId": namespace,
        "agentName": c["name"],
        "version": c["version"],
        "registrationType": "URL",
        "card": c,
    }


def nacos_get_card(server, namespace: str, name: str, version: str = ""):
    status, body = server.request("GET", "/v3/admin/ai/a2a", {"namespaceId": namespace, "agentName": name, "version": version})
    return status, body


def nacos_versions(server, namespace: str, name: str) -> list[str]:
    status, body = server.request("GET", "/v3/admin/ai/a2a/version/list", {"namespaceId": namespace, "agentName": name})
    if status != 200 or body.get("code") != 0:
        return []
    return sorted(v["version"] for v in body["data"])


def sdk_get_card(server, namespace: str, name: str):
    from v2.nacos import ClientConfigBuilder
    from v2.nacos.ai.model.ai_param import GetAgentCardParam
    from v2.nacos.ai.nacos_ai_service import NacosAIService

    async def fetch():
        config = (
            ClientConfigBuilder()
            .server_address(server.server_addr)
            .namespace_id(namespace)
            .username(server.username)
            .password(server.password)
            .log_level("WARNING")
            .log_dir(str(server.data_dir / "client-logs"))
            .cache_dir(str(server.data_dir / "client-cache"))
            .build()
        )
        service = await NacosAIService.create_ai_service(config)
        try:
            return await service.get_agent_card(GetAgentCardParam(agent_name=name))
        finally:
            await service.shutdown()

    return asyncio.run(asyncio.wait_for(fetch(), timeout=60))


# ------------------------------------------------------------------ AgentCard lifecycle


def test_create_publishes_a_card_readable_by_independent_clients(nacos_server, host, namespace):
    c = card("retail-conversation")
    props = host.props(AgentCardProvider(), card_inputs(namespace, c))
    checked, failures = host.check("card", {}, props)
    assert failures == []
    id_, outs = host.create("card", props)
    assert id_ == f"{namespace}/retail-conversation"
    assert outs["publishedVersions"] == ["1.0.0"]

    status, body = nacos_get_card(nacos_server, namespace, "retail-conversation")
    assert status == 200 and body["data"]["registrationType"] == "URL"
    # the SDK's gRPC client reads it back, and a2a-sdk accepts what it returns
    via_sdk = sdk_get_card(nacos_server, namespace, "retail-conversation")
    parsed = A2ACard.model_validate(via_sdk.model_dump(by_alias=True, exclude_none=True))
    assert parsed.name == "retail-conversation" and parsed.version == "1.0.0"
    assert [s.id for s in parsed.skills] == ["chat-v1"]
    assert parsed.capabilities.streaming is True

    host.delete("card", id_, outs)
    assert nacos_get_card(nacos_server, namespace, "retail-conversation")[0] == 404


def test_version_bump_is_published_as_latest_and_same_version_change_overwrites(nacos_server, host, namespace):
    v1 = host.props(AgentCardProvider(), card_inputs(namespace, card("orders")))
    id_, outs = host.create("card", v1)

    v2 = host.props(AgentCardProvider(), card_inputs(namespace, card("orders", "1.1.0", "now with refunds")))
    diff = host.diff("card", id_, outs, v2)
    assert diff.changes == diff.DIFF_SOME and list(diff.replaces) == []
    outs = host.update("card", id_, outs, v2)
    assert outs["publishedVersions"] == ["1.0.0", "1.1.0"]
    status, body = nacos_get_card(nacos_server, namespace, "orders")
    assert body["data"]["version"] == "1.1.0" and body["data"]["description"] == "now with refunds"
    assert nacos_versions(nacos_server, namespace, "orders") == ["1.0.0", "1.1.0"]

    same = host.props(AgentCardProvider(), card_inputs(namespace, card("orders", "1.1.0", "refunds, reworded")))
    outs = host.update("card", id_, outs, same)
    assert nacos_versions(nacos_server, namespace, "orders") == ["1.0.0", "1.1.0"]
    assert nacos_get_card(nacos_server, namespace, "orders", "1.1.0")[1]["data"]["description"] == "refunds, reworded"

    host.delete("card", id_, outs)
    assert nacos_versions(nacos_server, namespace, "orders") == []


def test_existing_identical_card_is_adopted(nacos_server, host, namespace):
    c = card("adopted")
    status, body = nacos_server.request(
        "POST", "/v3/admin/ai/a2a", {"namespaceId": namespace, "agentCard": json.dumps(c), "registrationType": "URL"}
    )
    assert status == 200, body
    props = host.props(AgentCardProvider(), card_inputs(namespace, c))
    id_, outs = host.create("card", props)
    assert id_ == f"{namespace}/adopted"
    assert nacos_versions(nacos_server, namespace, "adopted") == ["1.0.0"]
    host.delete("card", id_, outs)
    assert nacos_get_card(nacos_server, namespace, "adopted")[0] == 404


def test_existing_different_card_is_refused_and_left_untouched(nacos_server, host, namespace):
    theirs = card("contested", description="someone else's agent")
    nacos_server.request(
        "POST", "/v3/admin/ai/a2a", {"namespaceId": namespace, "agentCard": json.dumps(theirs), "registrationType": "URL"}
    )
    ours = host.props(AgentCardProvider(), card_inputs(namespace, card("contested")))
    with pytest.raises(ProviderCallError) as raised:
        host.create("card", ours)
    assert "AgentCard 'contested' already exists" in raised.value.details
    assert "different content" in raised.value.details
    status, body = nacos_get_card(nacos_server, namespace, "contested")
    assert body["data"]["description"] == "someone else's agent"
    assert nacos_versions(nacos_server, namespace, "contested") == ["1.0.0"]


def test_refresh_shows_a_card_changed_behind_the_stacks_back(nacos_server, host, namespace):
    c = card("drifty")
    props = host.props(AgentCardProvider(), card_inputs(namespace, c))
    id_, outs = host.create("card", props)
    changed = {**c, "description": "edited in the Nacos console"}
    status, body = nacos_server.request(
        "PUT",
        "/v3/admin/ai/a2a",
        {"namespaceId": namespace, "agentCard": json.dumps(changed), "registrationType": "URL", "setAsLatest": "true"},
    )
    assert status == 200, body
    read_id, read_outs, read_inputs = host.read("card", id_, outs)
    assert read_id == id_
    assert read_outs["card"]["description"] == "edited in the Nacos console"
    # the engine now diffs the refreshed state against the program: drift shows as an update
    diff = host.diff("card", id_, read_outs, props)
    assert diff.changes == diff.DIFF_SOME
    host.delete("card", id_, outs)


def test_delete_is_idempotent_and_refresh_of_a_deleted_card_reports_it_gone(nacos_server, host, namespace):
    props = host.props(AgentCardProvider(), card_inputs(namespace, card("ephemeral")))
    id_, outs = host.create("card", props)
    host.delete("card", id_, outs)
    host.delete("card", id_, outs)  # already gone: no error
    read_id, _, _ = host.read("card", id_, outs)
    assert read_id == ""


def test_check_rejects_an_invalid_card_before_anything_is_sent(nacos_server, host, namespace):
    bad = card("broken")
    del bad["url"]
    bad["skills"] = [{"id": "x"}]
    _, failures = host.check("card", {}, host.props(AgentCardProvider(), card_inputs(namespace, bad)))
    reasons = " | ".join(r for _, r in failures)
    assert "card.url" in reasons and "card.skills.0.name" in reasons
    assert nacos_get_card(nacos_server, namespace, "broken")[0] == 404


def test_diff_ignores_the_serialized_provider_and_makes_no_network_call(nacos_server):
    dead = f"http://127.0.0.1:{_free_port()}"
    with DynamicProviderHost(_config(nacos_server, addr=dead, retryTotalSeconds=0, readyTimeoutSeconds=0)) as h:
        inputs = card_inputs("anywhere", card("steady"))
        olds = {**inputs, "__provider": "an-older-serialization-of-the-provider"}
        news = h.props(AgentCardProvider(), inputs)
        started = time.monotonic()
        diff = h.diff("card", "anywhere/steady", olds, news)
        _, failures = h.check("card", olds, news)
        assert time.monotonic() - started < 5
        assert diff.changes == diff.DIFF_NONE and failures == []


def test_unchanged_inputs_diff_clean_against_the_stored_outputs(host, namespace):
    """The engine diffs new inputs against the outputs in state: an unchanged card must be no change."""
    c = card("steady-after-create")
    c["skills"][0]["examples"] = []  # Nacos and card_view drop empty collections; the input keeps them
    inputs = host.props(AgentCardProvider(), card_inputs(namespace, c))
    id_, outputs = host.create("card", inputs)
    try:
        diff = host.diff("card", id_, outputs, inputs)
        assert diff.changes == diff.DIFF_NONE, list(diff.diffs)
        changed = host.props(AgentCardProvider(), card_inputs(namespace, {**c, "description": "now different"}))
        assert host.diff("card", id_, outputs, changed).changes == diff.DIFF_SOME
    finally:
        host.delete("card", id_, outputs)


# ------------------------------------------------------------------ faults


def test_server_down_at_create_names_the_address_and_leaves_nothing(nacos_server, namespace):
    dead = f"http://127.0.0.1:{_free_port()}"
    with DynamicProviderHost(_config(nacos_server, addr=dead, retryTotalSeconds=1, readyTimeoutSeconds=2)) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("card", h.props(AgentCardProvider(), card_inputs(namespace, card("nowhere"))))
    assert f"cannot reach Nacos at {dead}" in raised.value.details
    assert "not ready within" in raised.value.details
    assert nacos_get_card(nacos_server, namespace, "nowhere")[0] == 404


def test_wrong_password_is_a_credentials_error_and_nothing_is_written(nacos_server, namespace):
    with DynamicProviderHost(_config(nacos_server, password="definitely-wrong-password")) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("card", h.props(AgentCardProvider(), card_inputs(namespace, card("denied"))))
    details = raised.value.details
    assert "refused the login of user 'nacos'" in details
    assert "definitely-wrong-password" not in details
    assert nacos_get_card(nacos_server, namespace, "denied")[0] == 404


def test_missing_registry_password_is_named(nacos_server, namespace):
    config = _config(nacos_server)
    del config["agent-runtime:registryPassword"]
    with DynamicProviderHost(config) as h:
        with pytest.raises(ProviderCallError) as raised:
            h.create("card", h.props(AgentCardProvider(), card_inputs(namespace, card("nopass"))))
    assert "agent-runtime:registryPassword" in raised.value.details


# ------------------------------------------------------------------ MCP servers


def mcp_inputs(namespace: str, name: str, version: str = "1.0.0", description: str = "order lookup tools") -> dict:
    return {
        "registryKind": "McpServer",
        "namespaceId": namespace,
        "mcpName": name,
        "version": version,
        "serverSpecification": {
            "name": name,
            "protocol": "mcp-sse",
            "frontProtocol": "mcp-sse",
            "description": description,
            "versionDetail": {"version": version},
            "remoteServerConfig": {"exportPath": "/sse"},
            "enabled": True,
        },
        "endpointSpecification": {
            "type": "DIRECT",
            "data": {"address": "orders-mcp.tools.svc.cluster.local", "port": "8080", "transportProtocol": "http"},
        },
        "toolSpecification": None,
    }


def nacos_get_mcp(server, namespace: str, name: str):
    return server.request("GET", "/v3/admin/ai/mcp", {"namespaceId": namespace, "mcpName": name})


def test_mcp_server_lifecycle(nacos_server, host, namespace):
    props = host.props(McpServerProvider(), mcp_inputs(namespace, "orders-mcp"))
    _, failures = host.check("mcp", {}, props)
    assert failures == []
    id_, outs = host.create("mcp", props)
    status, body = nacos_get_mcp(nacos_server, namespace, "orders-mcp")
    assert status == 200 and body["data"]["name"] == "orders-mcp"
    assert body["data"]["protocol"] == "mcp-sse"

    v2 = host.props(McpServerProvider(), mcp_inputs(namespace, "orders-mcp", "1.1.0", "order and refund tools"))
    outs = host.update("mcp", id_, outs, v2)
    status, body = nacos_get_mcp(nacos_server, namespace, "orders-mcp")
    assert body["data"]["versionDetail"]["version"] == "1.1.0"
    assert body["data"]["description"] == "order and refund tools"

    host.delete("mcp", id_, outs)
    host.delete("mcp", id_, outs)
    assert nacos_get_mcp(nacos_server, namespace, "orders-mcp")[0] == 404


def test_mcp_server_conflicts_adopt_identical_and_refuse_different(nacos_server, host, namespace):
    mine = host.props(McpServerProvider(), mcp_inputs(namespace, "shared-mcp"))
    id_, outs = host.create("mcp", mine)
    # a second stack declaring the identical server adopts it
    again_id, _ = host.create("mcp", mine)
    assert again_id == id_
    different = host.props(McpServerProvider(), mcp_inputs(namespace, "shared-mcp", description="something else"))
    with pytest.raises(ProviderCallError) as raised:
        host.create("mcp", different)
    assert "MCP server 'shared-mcp' already exists" in raised.value.details
    assert nacos_get_mcp(nacos_server, namespace, "shared-mcp")[1]["data"]["description"] == "order lookup tools"
    host.delete("mcp", id_, outs)
    assert nacos_get_mcp(nacos_server, namespace, "shared-mcp")[0] == 404


def test_mcp_check_rejects_bad_names(host):
    bad = host.props(McpServerProvider(), mcp_inputs("ns", "orders.mcp"))
    _, failures = host.check("mcp", {}, bad)
    assert any(prop == "mcpName" for prop, _ in failures)
