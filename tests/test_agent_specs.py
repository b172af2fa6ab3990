"""Agent spec loading: the examples load, every malformed file gets its exact, located errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pulumi
import pytest
import yaml

import harness
from models.agent_spec import AgentSpecError, load_agent_specs

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "agent_cases"
CASE_FILES = sorted(CASES.glob("*.yaml"))
TENANTS = ["retail", "research"]
PROFILES = ["code-exec"]
PROBLEM_LINE = re.compile(r"^agents/[\w.-]+\.ya?ml:\d+ \S+: .+")


def _expectations(path: Path) -> list[str]:
    return [line[len("# expect: "):].rstrip("\n") for line in path.read_text().splitlines() if line.startswith("# expect: ")]


def _load_in(tmp_path: Path, *files: Path, base: bool = True, **kwargs):
    """Copy spec files into <tmp>/agents and load them from there, so labels read agents/<file>."""
    agents = tmp_path / "agents"
    if base:
        shutil.copytree(CASES / "base", agents)
    else:
        agents.mkdir()
    for f in files:
        shutil.copy(f, agents / f.name)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        kwargs.setdefault("tenants", TENANTS)
        kwargs.setdefault("sandbox_profiles", PROFILES)
        return load_agent_specs("agents", **kwargs)
    finally:
        os.chdir(cwd)


# ---------------------------------------------------------------- the examples


def test_fixture_agents_load_against_both_stacks():
    for stack in ("dev", "prod"):
        config = harness.stack_file_config(stack)
        tenants = [t["name"] for t in config["agent-runtime:tenants"]]
        profiles = [p["name"] for p in config["agent-runtime:sandboxProfiles"]]
        catalog = load_agent_specs(harness.FIXTURE_AGENTS, tenants=tenants, sandbox_profiles=profiles)
        names = {a.name for a in catalog.agents}
        assert {"orchestrator", "conversation", "research-assistant"} <= names
        assert {"product-catalog", "web-search"} <= set(catalog.mcp_servers)


def test_examples_use_the_features_together():
    catalog = load_agent_specs(harness.FIXTURE_AGENTS, tenants=["retail", "research"], sandbox_profiles=PROFILES)
    orchestrator = catalog.agent("orchestrator")
    assert [(c.agent, c.skill) for c in orchestrator.a2a_calls] == [("conversation", "chat-v1")]
    assert [t.mcp_server for t in orchestrator.tools] == ["product-catalog"]
    assert catalog.agent("research-assistant").autoscaling.scale_to_zero
    assert catalog.agent("research-assistant").sandbox is not None
    conversation = catalog.agent("conversation")
    assert len(conversation.versions()) == 2 and sum(v.weight for v in conversation.versions()) == 100
    assert {c.name for c in catalog.callers_of("conversation")} == {"orchestrator", "research-assistant"}


def test_published_json_schemas_are_current_and_accept_the_examples():
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_agent_schema.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    agent_schema = json.loads((REPO / "agents" / "schema.json").read_text())
    mcp_schema = json.loads((REPO / "agents" / "mcp" / "schema.json").read_text())
    for path in harness.FIXTURE_AGENTS.glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), agent_schema)
    for path in (harness.FIXTURE_AGENTS / "mcp").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), mcp_schema)
    # the editor schema catches the simple mistakes too
    bad = yaml.safe_load((CASES / "temperature-too-high.yaml").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, agent_schema)


# ---------------------------------------------------------------- malformed files


def test_the_malformed_table_is_big_enough():
    assert len(CASE_FILES) >= 20
    for path in CASE_FILES:
        assert _expectations(path), f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("case", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_malformed_agent_file_is_rejected_with_located_errors(case: Path, tmp_path: Path):
    with pytest.raises(AgentSpecError) as info:
        _load_in(tmp_path, case)
    problems = info.value.problems
    expected = _expectations(case)
    assert len(problems) == len(expected), "\n".join(problems)
    for want, got in zip(expected, problems):
        assert got.startswith(want), f"expected {want!r}\n     got {got!r}"
        assert PROBLEM_LINE.match(got), got
    # Pulumi prints a RunError's message without a traceback
    assert isinstance(info.value, pulumi.RunError)
    assert str(info.value).count("\n") == len(problems)


def test_one_error_lists_every_problem_of_every_bad_file(tmp_path: Path):
    files = [CASES / "temperature-too-high.yaml", CASES / "unknown-tenant.yaml", CASES / "many-problems.yaml"]
    with pytest.raises(AgentSpecError) as info:
        _load_in(tmp_path, *files)
    expected = [e for f in sorted(files) for e in _expectations(f)]
    assert len(info.value.problems) == len(expected)
    for want, got in zip(expected, info.value.problems):
        assert got.startswith(want)


def test_duplicate_agent_names_across_files(tmp_path: Path):
    agents = tmp_path / "agents"
    shutil.copytree(CASES / "base", agents)
    (agents / "helper.yml").write_text((agents / "helper.yaml").read_text())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(AgentSpecError) as info:
            load_agent_specs("agents", tenants=TENANTS)
    finally:
        os.chdir(cwd)
    assert [p.split(" ", 1)[0] for p in info.value.problems] == ["agents/helper.yaml:2", "agents/helper.yml:2"]
    assert all("duplicate agent name 'helper'" in p for p in info.value.problems)


def test_scale_to_zero_needs_keda_and_scraped_gateway_metrics():
    """research-assistant scales to zero: a stack that could never wake it is refused at its spec line."""
    line = r"agents/research-assistant\.yaml:\d+ autoscaling\.scaleToZero: "
    keda_off = harness.agents_override("dev", keda={"enabled": False})
    with pytest.raises(AgentSpecError, match=line + "needs KEDA"):
        harness.run_program("dev", overrides=keda_off)
    gateway = {**harness.stack_file_config("dev")["agent-runtime:gateway"], "metrics": False}
    with pytest.raises(AgentSpecError, match=line + "needs the gateway's request metrics in Prometheus"):
        harness.run_program("dev", overrides={"gateway": gateway})
    # either way of scraping the gateway will do
    security = {**harness.stack_file_config("dev")["agent-runtime:security"], "monitoring": {"prometheusOperator": True}}
    run = harness.run_program("dev", overrides={"gateway": gateway, "security": security})
    assert run.one("kubernetes:keda.sh/v1alpha1:ScaledObject", "research-assistant-v0-9-0", "tenant-research")


def test_bad_mcp_server_file(tmp_path: Path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: broken\nurl: ftp://x\nprotocol: websocket\n")
    agents = tmp_path / "agents"
    shutil.copytree(CASES / "base", agents)
    shutil.copy(bad, agents / "mcp" / "broken.yaml")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with pytest.raises(AgentSpecError) as info:
            load_agent_specs("agents", tenants=TENANTS)
    finally:
        os.chdir(cwd)
    assert info.value.problems == [
        "agents/mcp/broken.yaml:2 url: 'ftp://x' is not an http(s) URL",
        "agents/mcp/broken.yaml:3 protocol: must be one of 'sse' or 'streamable-http' (got 'websocket')",
    ]


# ---------------------------------------------------------------- nothing is partly deployed


class _KeepingMonitor(harness.RecordingMonitor):
    last: "harness.RecordingMonitor | None" = None

    def __init__(self, mocks, **kwargs):
        super().__init__(mocks, **kwargs)
        _KeepingMonitor.last = self


def test_a_bad_agent_file_fails_the_program_before_any_resource(tmp_path: Path, monkeypatch):
    agents = tmp_path / "agents"
    shutil.copytree(harness.FIXTURE_AGENTS, agents)
    shutil.copy(CASES / "temperature-too-high.yaml", agents / "temperature-too-high.yaml")
    monkeypatch.setattr(harness, "RecordingMonitor", _KeepingMonitor)
    with pytest.raises(AgentSpecError) as info:
        harness.run_program("dev", overrides=harness.agents_override("dev", directory=str(agents)))
    assert "temperature-too-high.yaml:12 model.temperature: must be <= 2" in str(info.value)
    assert _KeepingMonitor.last is not None and _KeepingMonitor.last.registered == []


def test_agent_in_a_tenant_the_stack_lacks_is_rejected(tmp_path: Path):
    agents = tmp_path / "agents"
    shutil.copytree(harness.FIXTURE_AGENTS, agents)
    spec = yaml.safe_load((agents / "orchestrator.yaml").read_text())
    spec.update(name="lab-bot", tenant="sandbox-lab", a2aCalls=[], tools=[])
    (agents / "lab-bot.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    # prod has the sandbox-lab tenant, dev does not
    external = [*harness.stack_file_config("prod")["agent-runtime:agents"]["externalSecrets"], "sandbox-lab/model-credentials"]
    harness.run_program("prod", overrides=harness.agents_override("prod", directory=str(agents), externalSecrets=external))
    with pytest.raises(AgentSpecError, match=r"lab-bot.yaml:2 tenant: unknown tenant 'sandbox-lab'"):
        harness.run_program("dev", overrides=harness.agents_override("dev", directory=str(agents)))
