"""Live configuration under mocks: what goes to Nacos, what stays in the ConfigMap, and what a change rolls.

With the registry on (live configuration's default), each version's behaviour is a Nacos
configuration item and the ConfigMap only says where to subscribe; a prompt or temperature
change then touches the item alone. Against a real Nacos and the real engine: tests/registry
and tests/e2e.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness import FIXTURE_AGENTS, agents_override, run_program
from models.settings import ConfigError

REGISTRY = {"enabled": True, "serverAddr": "http://127.0.0.1:8848"}
SECRETS = {"registryPassword": "registry-pass-123"}
DYNAMIC = "pulumi-python:dynamic:Resource"
CM = "kubernetes:core/v1:ConfigMap"
DEPLOY = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"


def _live_run(agents: Path | None = None, **agents_settings):
    overrides = {"registry": REGISTRY}
    if agents is not None or agents_settings:
        settings = {**({"directory": str(agents)} if agents else {}), **agents_settings}
        overrides.update(agents_override("dev", **settings))
    return run_program("dev", overrides=overrides, secrets=SECRETS)


def _records(run, kind: str) -> list:
    return [r for r in run.of_type(DYNAMIC) if r.inputs.get("registryKind") == kind]


def _items(run) -> dict[str, dict]:
    return {r.inputs["dataId"]: r for r in _records(run, "ConfigItem")}


@pytest.fixture(scope="module")
def live_run():
    return _live_run()


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    directory = tmp_path / "agents"
    shutil.copytree(FIXTURE_AGENTS, directory)
    return directory


def _edit(agents: Path, name: str, edit) -> None:
    path = agents / f"{name}.yaml"
    spec = yaml.safe_load(path.read_text())
    edit(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def test_each_version_has_one_item_in_its_tenants_namespace(live_run):
    items = _items(live_run)
    assert set(items) == {"conversation_1.2.0.json", "conversation_1.3.0.json", "orchestrator_2.0.0.json", "research-assistant_0.9.0.json"}
    assert items["orchestrator_2.0.0.json"].inputs["namespaceId"] == "tenant-retail"
    assert items["research-assistant_0.9.0.json"].inputs["namespaceId"] == "tenant-research"
    assert {r.inputs["group"] for r in items.values()} == {"agent-runtime"}
    namespaces = {r.inputs["namespaceId"]: r.urn for r in _records(live_run, "Namespace")}
    for item in items.values():
        assert namespaces[item.inputs["namespaceId"]] in item.dependencies


def test_the_item_holds_the_behaviour_and_the_config_map_only_where_to_subscribe(live_run):
    behaviour = json.loads(_items(live_run)["orchestrator_2.0.0.json"].inputs["content"])
    assert behaviour["systemPrompt"]["text"].startswith("You are the retail orchestrator")
    assert behaviour["model"]["temperature"] == 0.2 and behaviour["model"]["apiKeyFile"].startswith("/etc/agent-credentials/")
    assert {"tools", "a2a", "knowledgeBases"} <= set(behaviour)

    data = live_run.one(CM, "orchestrator-v2-0-0-config", "tenant-retail").inputs["data"]
    config = json.loads(data["config.json"])
    assert "system-prompt.txt" not in data and not {"model", "systemPrompt", "tools"} & set(config)
    assert config["liveConfig"] == {
        "serverAddr": "nacos.agent-runtime.svc.cluster.local:8848",
        "namespaceId": "tenant-retail",
        "group": "agent-runtime",
        "dataId": "orchestrator_2.0.0.json",
        "username": "agent-retail-orchestrator",
        "passwordFile": "/etc/agent-credentials/nacos-password",
    }


def test_each_agent_reads_with_a_read_only_user_of_its_own_whose_password_is_a_mounted_file(live_run):
    readers = {r.inputs["username"]: r for r in _records(live_run, "Reader")}
    assert set(readers) == {"agent-retail-conversation", "agent-retail-orchestrator", "agent-research-research-assistant"}
    assert readers["agent-retail-orchestrator"].inputs["resource"] == "tenant-retail:*:config/*"
    secret = live_run.one(SECRET, "orchestrator-nacos-reader", "tenant-retail")
    assert set(secret.inputs["stringData"]) == {"password"}
    deployment = live_run.one(DEPLOY, "orchestrator-v2-0-0", "tenant-retail")
    volume = next(v for v in deployment.inputs["spec"]["template"]["spec"]["volumes"] if v["name"] == "credentials")
    sources = {s["secret"]["name"]: s["secret"]["items"] for s in volume["projected"]["sources"]}
    assert sources["orchestrator-nacos-reader"] == [{"key": "password", "path": "nacos-password"}]
    # the pods start only once their item and their password exist
    item = _items(live_run)["orchestrator_2.0.0.json"]
    assert item.urn in deployment.dependencies and secret.urn in deployment.dependencies


def test_no_secret_value_reaches_an_item(live_run):
    """The items name credential files; no key's value, no Secret's data is ever in them."""
    for item in _items(live_run).values():
        content = item.inputs["content"]
        assert "registry-pass-123" not in content
        assert "secretKeyRef" not in content and "password\":" not in content


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["systemPrompt"].update(inline="You are a terser orchestrator."),
        lambda s: s["model"].update(temperature=0.9),
        lambda s: s["model"].update(maxTokens=512),
    ],
    ids=["prompt", "temperature", "max-tokens"],
)
def test_a_behaviour_change_touches_only_the_item(agents, edit):
    before = _live_run(agents)
    _edit(agents, "orchestrator", edit)
    after = _live_run(agents)
    item = "orchestrator_2.0.0.json"
    assert _items(before)[item].inputs["content"] != _items(after)[item].inputs["content"]
    for typ, name in ((DEPLOY, "orchestrator-v2-0-0"), (CM, "orchestrator-v2-0-0-config")):
        assert before.one(typ, name, "tenant-retail").inputs == after.one(typ, name, "tenant-retail").inputs, f"{typ} {name} changed"


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.update(resources={"requests": {"cpu": "300m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
        lambda s: s["model"]["apiKey"]["secretKeyRef"].update(key="anthropic-api-key"),
    ],
    ids=["resources", "secret"],
)
def test_resources_or_secrets_still_roll_the_deployment(agents, edit):
    before = _live_run(agents).one(DEPLOY, "orchestrator-v2-0-0", "tenant-retail")
    _edit(agents, "orchestrator", edit)
    after = _live_run(agents).one(DEPLOY, "orchestrator-v2-0-0", "tenant-retail")
    assert before.inputs["spec"]["template"] != after.inputs["spec"]["template"]


def test_a_stack_can_keep_the_behaviour_in_config_maps():
    run = _live_run(liveConfig=False)
    assert _records(run, "ConfigItem") == [] and _records(run, "Reader") == []
    config = json.loads(run.one(CM, "orchestrator-v2-0-0-config", "tenant-retail").inputs["data"]["config.json"])
    assert "liveConfig" not in config and config["model"]["temperature"] == 0.2


def test_live_configuration_needs_the_registry():
    with pytest.raises(ConfigError) as refused:
        run_program("dev", overrides=agents_override("dev", liveConfig=True))
    assert "agent-runtime:agents.liveConfig: needs registry.enabled" in str(refused.value)
