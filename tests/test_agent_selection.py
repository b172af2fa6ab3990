"""Which agents go where: a stack deploys the spec files its `agents.include` patterns select.

One repository serves several stacks with different tenants: an agent of a prod-only tenant
lives in a folder only prod includes, and dev never sees it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from models.agent_spec import AgentSpecError
from models.settings import ConfigError
from harness import FIXTURE_AGENTS, run_program, stack_file_config

PROD_ONLY_TENANT = {"name": "lab", "tier": "standard"}


@pytest.fixture
def agents(tmp_path: Path) -> Path:
    """The fixture agents plus one agent of a tenant only prod has, in a folder of its own."""
    directory = tmp_path / "agents"
    shutil.copytree(FIXTURE_AGENTS, directory)
    lab = yaml.safe_load((FIXTURE_AGENTS / "orchestrator.yaml").read_text())
    lab.update(name="lab-assistant", tenant="lab", a2aCalls=[], tools=[])
    lab.pop("knowledgeBases", None)
    (directory / "prod-only").mkdir()
    (directory / "prod-only" / "lab-assistant.yaml").write_text(yaml.safe_dump(lab, sort_keys=False))
    return directory


def _agents_of(run) -> set[str]:
    return {r.name.removeprefix("agent-") for r in run.of_type("agent-runtime:agents:Agent")}


def test_dev_deploys_the_shared_agents_and_never_sees_the_prod_only_one(agents):
    dev = run_program("dev", overrides={"agents": {**_agents_setting("dev"), "directory": str(agents)}})
    assert _agents_of(dev) == {"orchestrator", "conversation", "research-assistant"}


def test_prod_includes_the_prod_only_folder_and_deploys_its_tenants_agent(agents):
    prod_config = stack_file_config("prod")
    tenants = [*prod_config["agent-runtime:tenants"], PROD_ONLY_TENANT]
    prod = run_program("prod", overrides={
        "tenants": tenants,
        "agents": {
            **_agents_setting("prod"),
            "directory": str(agents),
            "include": ["*.yaml", "prod-only/*.yaml"],
            "externalSecrets": [*_agents_setting("prod")["externalSecrets"], "lab/model-credentials"],
        },
    })
    assert _agents_of(prod) == {"orchestrator", "conversation", "research-assistant", "lab-assistant"}
    assert [r.k8s_name for r in prod.of_type("kubernetes:apps/v1:Deployment") if r.k8s_namespace == "tenant-lab"] == ["lab-assistant-v2-0-0"]


def test_without_the_selection_the_prod_only_agent_is_an_unknown_tenant_for_dev(agents):
    with pytest.raises(AgentSpecError) as raised:
        run_program("dev", overrides={"agents": {**_agents_setting("dev"), "directory": str(agents), "include": ["**/*.yaml"]}})
    [problem] = raised.value.problems
    assert problem.startswith(f"{agents.name}/prod-only/lab-assistant.yaml:") or "prod-only/lab-assistant.yaml:" in problem
    assert "tenant: unknown tenant 'lab'" in problem


def test_a_pattern_that_selects_nothing_is_named(agents):
    with pytest.raises(AgentSpecError) as raised:
        run_program("dev", overrides={"agents": {**_agents_setting("dev"), "directory": str(agents), "include": ["*.yaml", "prod-onyl/*.yaml"]}})
    assert any("agents.include pattern 'prod-onyl/*.yaml' selects no file" in p for p in raised.value.problems)


@pytest.mark.parametrize("pattern", ["/etc/*.yaml", "../elsewhere/*.yaml", "*.json"])
def test_patterns_stay_inside_the_agents_directory(pattern):
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides={"agents": {**_agents_setting("dev"), "include": [pattern]}})
    assert "agent-runtime:agents.include:" in str(raised.value)


def _agents_setting(stack: str) -> dict:
    return dict(stack_file_config(stack)["agent-runtime:agents"])
