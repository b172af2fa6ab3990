"""Registry records the program registers when `registry.enabled`: namespaces, AgentCards, MCP servers."""

import pytest
from a2a.types import AgentCard

from models.settings import ConfigError
from harness import run_program

REGISTRY = {"enabled": True, "serverAddr": "http://127.0.0.1:8848"}
DYNAMIC = "pulumi-python:dynamic:Resource"


@pytest.fixture(scope="module")
def registry_run():
    return run_program("dev", overrides={"registry": REGISTRY}, secrets={"registryPassword": "registry-pass-123"})


def _records(run, kind):
    return [r for r in run.of_type(DYNAMIC) if r.inputs.get("registryKind") == kind]


def test_registry_is_off_unless_enabled(dev_run):
    assert dev_run.of_type(DYNAMIC) == []


def test_one_nacos_namespace_per_tenant(registry_run):
    ids = sorted(r.inputs["namespaceId"] for r in _records(registry_run, "Namespace"))
    assert ids == ["tenant-research", "tenant-retail"]


def test_every_agent_has_a_valid_card_in_its_tenant_namespace(registry_run):
    cards = {r.inputs["agentName"]: r for r in _records(registry_run, "AgentCard")}
    assert set(cards) == {"conversation", "orchestrator", "research-assistant"}
    a2a_paths: dict[str, set[str]] = {}
    for ingress in registry_run.of_type("kubernetes:networking.k8s.io/v1:Ingress"):
        if ingress.inputs["metadata"]["labels"]["agent-runtime.io/route-kind"] == "a2a":
            agent = ingress.inputs["metadata"]["labels"]["agent-runtime.io/agent"]
            a2a_paths.setdefault(agent, set()).add(ingress.inputs["spec"]["rules"][0]["http"]["paths"][0]["path"])
    for name, record in cards.items():
        card = AgentCard.model_validate(record.inputs["card"])
        assert card.name == name and record.inputs["version"] == card.version
        # the card names only A2A routes the gateway has; an agent nobody calls has none and lists no interface
        urls = [card.url, *(i.url for i in card.additional_interfaces or [])]
        paths = {"/api/v1/internal/" + u.split("/api/v1/internal/", 1)[1] for u in urls}
        if name in a2a_paths:
            assert paths == a2a_paths[name], (name, urls)
        else:
            assert card.url.endswith(f"/api/v1/internal/a2a/{name}") and not card.additional_interfaces
        assert card.capabilities.streaming is True
        assert record.inputs["registrationType"] == "URL"
    # conversation's skills have different callers: its url is its first called skill's route
    assert cards["conversation"].inputs["card"]["url"].endswith("/api/v1/internal/a2a/conversation/chat-v1")
    assert cards["conversation"].inputs["namespaceId"] == "tenant-retail"
    assert cards["research-assistant"].inputs["namespaceId"] == "tenant-research"


def test_records_wait_for_nacos_and_their_namespace(registry_run):
    # depending on the NacosCluster component means depending on its children, the StatefulSet among them
    statefulset = registry_run.one("kubernetes:apps/v1:StatefulSet", "nacos")
    namespaces = {r.inputs["namespaceId"]: r.urn for r in _records(registry_run, "Namespace")}
    for ns in _records(registry_run, "Namespace"):
        assert statefulset.urn in ns.dependencies
    for card in _records(registry_run, "AgentCard"):
        assert namespaces[card.inputs["namespaceId"]] in card.dependencies


def test_mcp_servers_are_registered_where_tenants_may_use_them(registry_run):
    servers = _records(registry_run, "McpServer")
    assert servers, "the example MCP servers must be registered"
    for s in servers:
        spec = s.inputs["serverSpecification"]
        assert spec["protocol"] in {"mcp-sse", "mcp-streamable"}
        assert spec["remoteServerConfig"]["exportPath"].startswith("/")
        assert s.inputs["endpointSpecification"]["type"] == "DIRECT"


def test_no_credential_reaches_a_registry_record(registry_run):
    for r in registry_run.of_type(DYNAMIC):
        assert "registry-pass-123" not in repr(r.inputs)


def test_enabled_registry_needs_a_password():
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides={"registry": REGISTRY})
    assert "agent-runtime:registryPassword: required when registry.enabled" in str(raised.value)


def test_enabled_registry_needs_an_address():
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides={"registry": {"enabled": True}}, secrets={"registryPassword": "registry-pass-123"})
    assert "registry.serverAddr: required when registry.enabled" in str(raised.value)


def test_registry_address_is_a_base_url():
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides={"registry": {"enabled": True, "serverAddr": "127.0.0.1:8848/nacos"}}, secrets={"registryPassword": "registry-pass-123"})
    assert "agent-runtime:registry.serverAddr:" in str(raised.value)
