"""Smoke test of the real Nacos 3.1 test server: HTTP admin API and gRPC client."""

from __future__ import annotations

import asyncio
import json
import uuid

import nacos_server as ns


def _card(name: str, version: str) -> dict:
    return {
        "protocolVersion": "0.3.0",
        "name": name,
        "description": "smoke-test agent",
        "version": version,
        "url": "http://127.0.0.1:9/a2a",
        "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": False},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "echo", "name": "echo", "description": "echoes", "tags": ["test"]}],
    }


def test_login_and_auth_enforced(nacos_server):
    token = nacos_server.login()
    assert token
    status, body = ns.http("GET", nacos_server.base_url + "/v3/admin/core/namespace/list")
    assert status == 403, body  # auth is on: no token, no access
    status, body = ns.http("GET", nacos_server.base_url + "/v3/admin/core/namespace/list",
                           token=token)
    assert status == 200 and body["code"] == 0


def test_publish_agent_card_http_and_grpc(nacos_server):
    namespace = f"smoke-{uuid.uuid4().hex[:8]}"
    agent = f"smoke-agent-{uuid.uuid4().hex[:6]}"

    status, body = nacos_server.request("POST", "/v3/admin/core/namespace", {
        "namespaceId": namespace, "namespaceName": namespace, "namespaceDesc": "smoke"})
    assert (status, body["code"], body["data"]) == (200, 0, True), body

    status, body = nacos_server.request("POST", "/v3/admin/ai/a2a", {
        "namespaceId": namespace, "agentCard": json.dumps(_card(agent, "1.0.0")),
        "registrationType": "URL"})
    assert (status, body["code"], body["data"]) == (200, 0, "ok"), body

    status, body = nacos_server.request("GET", "/v3/admin/ai/a2a",
                                        {"namespaceId": namespace, "agentName": agent})
    assert status == 200 and body["code"] == 0, body
    assert body["data"]["name"] == agent
    assert body["data"]["version"] == "1.0.0"
    assert body["data"]["registrationType"] == "URL"

    # The same card through nacos-sdk-python's gRPC AI client (port + 1000).
    from v2.nacos import ClientConfigBuilder
    from v2.nacos.ai.model.ai_param import GetAgentCardParam
    from v2.nacos.ai.nacos_ai_service import NacosAIService

    async def via_grpc():
        config = (ClientConfigBuilder()
                  .server_address(nacos_server.server_addr)
                  .namespace_id(namespace)
                  .username(nacos_server.username)
                  .password(nacos_server.password)
                  .log_level("WARNING")
                  .log_dir(str(nacos_server.data_dir / "client-logs"))
                  .cache_dir(str(nacos_server.data_dir / "client-cache"))
                  .build())
        service = await NacosAIService.create_ai_service(config)
        try:
            return await service.get_agent_card(GetAgentCardParam(agent_name=agent))
        finally:
            await service.shutdown()

    card = asyncio.run(asyncio.wait_for(via_grpc(), timeout=60))
    assert card.name == agent
    assert card.version == "1.0.0"
    assert card.url == "http://127.0.0.1:9/a2a"
    assert card.registration_type == "URL"
