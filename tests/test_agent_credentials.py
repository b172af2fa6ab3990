"""Secrets and ConfigMaps the agents read: supplied by the stack, or created elsewhere and listed; never missing.

A reference nothing provides is refused at the agent's spec line before anything deploys.
"""

from __future__ import annotations

import json

import pytest

from models.agent_spec import AgentSpecError
from models.settings import ConfigError
from harness import agents_override, run_program, stack_file_config

SECRET = "kubernetes:core/v1:Secret"
FIXTURE_EXTERNAL = stack_file_config("dev")["agent-runtime:agents"]["externalSecrets"]

# every Secret the fixture agents read, supplied by the stack instead of listed as external
SUPPLIED = {
    "retail": {
        "model-credentials": {"openai-api-key": "sk-retail-openai", "anthropic-api-key": "sk-retail-anthropic"},
        "memory-credentials": {"pinecone-api-key": "pc-retail"},
        "product-catalog-mcp": {"token": "catalog-token"},
    },
    "research": {
        "model-credentials": {"openai-api-key": "sk-research-openai"},
        "research-prompts": {"system-prompt": "You research carefully."},
        "web-search-mcp": {"api-key": "search-key"},
    },
}


def _supplied_run(supplied=SUPPLIED, external=()):
    return run_program(
        "dev",
        overrides=agents_override("dev", externalSecrets=list(external)),
        secrets={"agentSecrets": json.dumps(supplied)},
    )


def test_supplied_secrets_become_kubernetes_secrets_in_the_tenant_namespaces():
    run = _supplied_run()
    secret = run.one(SECRET, "model-credentials", "tenant-retail")
    assert set(secret.inputs["stringData"]) == {"openai-api-key", "anthropic-api-key"}
    # the values travel as Pulumi secrets: encrypted in state, masked in output
    assert "stringData" in secret.secret_paths or secret.secret_paths >= {"stringData.openai-api-key", "stringData.anthropic-api-key"}
    assert run.one(SECRET, "research-prompts", "tenant-research").inputs["metadata"]["labels"]["agent-runtime.io/tenant"] == "research"
    # every pod that reads one starts after it exists
    deployment = next(r for r in run.of_type("kubernetes:apps/v1:Deployment") if r.k8s_name.startswith("orchestrator-"))
    agent = run.by_urn(deployment.parent)
    assert secret.urn in agent.dependencies


def test_the_stack_creates_the_prompt_configmap_it_declares():
    run = run_program("dev")
    prompt = run.one("kubernetes:core/v1:ConfigMap", "conversation-prompts", "tenant-retail")
    assert "customer assistant" in prompt.inputs["data"]["system.md"]


def test_a_reference_nothing_provides_is_refused_at_its_spec_line():
    partial = {"retail": {k: v for k, v in SUPPLIED["retail"].items() if k != "memory-credentials"}, "research": SUPPLIED["research"]}
    with pytest.raises(AgentSpecError) as raised:
        _supplied_run(partial)
    [problem] = raised.value.problems
    assert "conversation.yaml:" in problem and " memory.apiKey.secretKeyRef: Secret 'memory-credentials' (key 'pinecone-api-key')" in problem
    assert "scripts/stack.py set-secret --stack <stack> agentSecrets.retail.memory-credentials.pinecone-api-key" in problem
    assert "agents.externalSecrets" in problem


def test_a_supplied_secret_without_the_key_is_named_and_its_values_are_not():
    broken = json.loads(json.dumps(SUPPLIED))
    del broken["retail"]["model-credentials"]["anthropic-api-key"]
    with pytest.raises(AgentSpecError) as raised:
        _supplied_run(broken)
    text = str(raised.value)
    assert "Secret 'model-credentials' in tenant 'retail' without that key (it has ['openai-api-key'])" in text
    assert "sk-retail" not in text


def test_an_mcp_servers_credential_must_be_in_each_tenant_that_uses_it():
    without = json.loads(json.dumps(SUPPLIED))
    del without["research"]["web-search-mcp"]
    with pytest.raises(AgentSpecError) as raised:
        _supplied_run(without)
    [problem] = raised.value.problems
    assert "research-assistant.yaml:" in problem and "tools[0].mcpServer: MCP server 'web-search': Secret 'web-search-mcp'" in problem


def test_external_and_supplied_together():
    only_models = {t: {"model-credentials": SUPPLIED[t]["model-credentials"]} for t in SUPPLIED}
    external = [e for e in FIXTURE_EXTERNAL if not e.endswith("/model-credentials")]
    run = _supplied_run(only_models, external)
    assert {r.k8s_name for r in run.of_type(SECRET) if r.k8s_namespace.startswith("tenant-")} == {"model-credentials"}


@pytest.mark.parametrize("settings,expected", [
    ({"agents": {"externalSecrets": ["nobody/x"]}}, "agent-runtime:agents: ['nobody'] are not tenants of this stack"),
    ({"agents": {"externalSecrets": ["no-slash"]}}, "agent-runtime:agents.externalSecrets.0: Value error, 'no-slash' must be '<tenant>/<name>'"),
    ({"agents": {"configMaps": {"retail": {"Bad_Name": {"k": "v"}}}}}, "is not a Kubernetes object name"),
])
def test_wrong_object_settings_are_named(settings, expected):
    overrides = {"agents": {**stack_file_config("dev")["agent-runtime:agents"], **settings["agents"]}}
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides=overrides)
    assert expected.replace("Value error, ", "") in str(raised.value)


def test_agent_secrets_must_be_a_secret_and_name_real_tenants():
    with pytest.raises(ConfigError) as raised:
        run_program("dev", plain_secrets={"agentSecrets": json.dumps(SUPPLIED)})
    assert "agent-runtime:agentSecrets: is stored in plain text" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        run_program("dev", secrets={"agentSecrets": json.dumps({"ghost": {"x": {"k": "v"}}})})
    assert "agent-runtime:agentSecrets: ['ghost'] are not tenants of this stack" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        run_program("dev", secrets={"agentSecrets": json.dumps({"retail": {"x": {"k": 42}}})})
    assert "agentSecrets.<tenant>.<secret>.<key>" in str(raised.value) and "42" not in str(raised.value)
