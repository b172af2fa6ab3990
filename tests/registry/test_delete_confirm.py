"""delete-and-confirm's reading of Nacos's answers, without a server.

The real NacosClient maps the answers (only its transport is replaced by a script of the bodies
Nacos 3.1 gave, see docs/nacos-api-observed.md); the provider's own loop runs on top. The
stress test (test_registry_delete_stress.py) shows the same against a real server.
"""

from __future__ import annotations

import json

import pytest

from nacos_registry import provider as provider_mod
from nacos_registry.client import ConnectionSettings, NacosBadRequest, NacosClient, NacosServerError
from nacos_registry.provider import AgentCardProvider, McpServerProvider

OK = (200, {"code": 0, "message": "success", "data": "ok"})
HALF_DELETED = (400, {"code": 20002, "message": "parameter validate error", "data": 'argument "content" is null'})
INVALID = (400, {"code": 20002, "message": "parameter validate error", "data": "agentCard is invalid. Can't be parsed."})
AGENT_GONE = (404, {"code": 50100, "message": "Agent not found", "data": "Agent not found: orders"})
VERSION_GONE = (404, {"code": 50101, "message": "Agent version not found", "data": "Agent orders version 1.1.0 not found."})
MCP_GONE = (404, {"code": 50000, "message": "MCP server not found", "data": "Mcp server [ID: null] not found"})
CARD = (200, {"code": 0, "message": "success", "data": {"name": "orders", "version": "1.1.0"}})
VERSIONS = (200, {"code": 0, "message": "success", "data": [{"version": "1.0.0"}, {"version": "1.1.0", "latest": True}]})

CARD_PROPS = {"agentName": "orders", "namespaceId": "ns", "registrationType": "URL", "version": "1.1.0"}
MCP_PROPS = {"mcpName": "orders-mcp", "namespaceId": "ns"}


class Script:
    """Answers per (method, path suffix), in order; the last answer repeats."""

    def __init__(self, answers: dict[tuple[str, str], list]):
        self.answers = {k: list(v) for k, v in answers.items()}
        self.sent: list[tuple[str, str]] = []

    def __call__(self, method, path, params, auth, retry_5xx=True):
        key = (method, path.split("/ai/", 1)[1])
        self.sent.append(key)
        queue = self.answers[key]
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return status, json.dumps(body)


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setattr(provider_mod.time, "sleep", lambda _s: None)

    def make(provider, answers):
        script = Script(answers)
        client = NacosClient(ConnectionSettings("http://nacos.invalid:8848", "nacos", "pw"))
        client._with_retries = script  # type: ignore[method-assign]
        provider._client = lambda: client  # type: ignore[method-assign]
        return script

    return make


def test_half_deleted_reads_are_asked_again_until_card_and_versions_are_gone(scripted):
    provider = AgentCardProvider()
    script = scripted(provider, {
        ("DELETE", "a2a"): [OK],
        ("GET", "a2a"): [HALF_DELETED, CARD, VERSION_GONE, HALF_DELETED, AGENT_GONE],
        ("GET", "a2a/version/list"): [HALF_DELETED, VERSIONS, AGENT_GONE],
    })
    provider.delete("ns/orders", CARD_PROPS)
    assert script.sent.count(("DELETE", "a2a")) == 1
    assert script.sent[-2:] == [("GET", "a2a"), ("GET", "a2a/version/list")]  # done only when both are gone


def test_a_half_deleted_answer_to_the_delete_sends_it_again(scripted):
    provider = AgentCardProvider()
    script = scripted(provider, {
        ("DELETE", "a2a"): [HALF_DELETED, HALF_DELETED, OK],
        ("GET", "a2a"): [AGENT_GONE],
        ("GET", "a2a/version/list"): [AGENT_GONE],
    })
    provider.delete("ns/orders", CARD_PROPS)
    assert script.sent.count(("DELETE", "a2a")) == 3


def test_mcp_delete_reads_half_deleted_as_not_gone_yet(scripted):
    provider = McpServerProvider()
    script = scripted(provider, {("DELETE", "mcp"): [OK], ("GET", "mcp"): [HALF_DELETED, MCP_GONE]})
    provider.delete("ns/orders-mcp", MCP_PROPS)
    assert script.sent == [("DELETE", "mcp"), ("GET", "mcp"), ("GET", "mcp")]


def test_mcp_delete_of_an_absent_server_is_done(scripted):
    provider = McpServerProvider()
    script = scripted(provider, {("DELETE", "mcp"): [MCP_GONE]})
    provider.delete("ns/orders-mcp", MCP_PROPS)
    assert script.sent == [("DELETE", "mcp")]


def test_other_answers_in_the_delete_window_stay_errors(scripted):
    provider = AgentCardProvider()
    scripted(provider, {("DELETE", "a2a"): [OK], ("GET", "a2a"): [INVALID]})
    with pytest.raises(NacosBadRequest, match="agentCard is invalid"):
        provider.delete("ns/orders", CARD_PROPS)


def test_half_deleted_outside_a_delete_stays_an_error(scripted):
    provider = AgentCardProvider()
    scripted(provider, {("GET", "a2a"): [HALF_DELETED]})
    with pytest.raises(NacosBadRequest, match=r'GET http://nacos.invalid:8848/nacos/v3/admin/ai/a2a: .*"content" is null'):
        provider.read("ns/orders", CARD_PROPS)


def test_a_record_half_deleted_past_the_deadline_is_named(scripted, monkeypatch):
    monkeypatch.setattr(provider_mod, "DELETE_SETTLE_SECONDS", 0)
    provider = AgentCardProvider()
    scripted(provider, {("DELETE", "a2a"): [OK], ("GET", "a2a"): [HALF_DELETED]})
    with pytest.raises(NacosServerError) as raised:
        provider.delete("ns/orders", CARD_PROPS)
    message = str(raised.value)
    assert "AgentCard 'orders' in namespace 'ns' was still half-deleted" in message
    assert "GET http://nacos.invalid:8848/nacos/v3/admin/ai/a2a" in message


def test_a_delete_refused_as_half_deleted_past_the_deadline_is_named(scripted, monkeypatch):
    monkeypatch.setattr(provider_mod, "DELETE_SETTLE_SECONDS", 0)
    provider = McpServerProvider()
    scripted(provider, {("DELETE", "mcp"): [HALF_DELETED]})
    with pytest.raises(NacosServerError) as raised:
        provider.delete("ns/orders-mcp", MCP_PROPS)
    message = str(raised.value)
    assert "Nacos did not accept the deletion of MCP server 'orders-mcp' in namespace 'ns'" in message
    assert "DELETE http://nacos.invalid:8848/nacos/v3/admin/ai/mcp" in message
