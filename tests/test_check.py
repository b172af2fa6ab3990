"""scripts/check.py: a team's stack checked without a cluster or an engine, every mistake named."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import FIXTURE_AGENTS, FIXTURE_STACKS, REPO

sys.path.insert(0, str(REPO / "scripts"))
import check  # noqa: E402


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A team's project: Pulumi.yaml, the fixture dev stack (its own agents dir, absolute chart paths)."""
    shutil.copyfile(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(FIXTURE_AGENTS, tmp_path / "agents")
    config = yaml.safe_load((FIXTURE_STACKS / "Pulumi.dev.yaml").read_text())
    c = config["config"]
    c["agent-runtime:agents"]["directory"] = "agents"
    c["agent-runtime:agents"]["keda"]["localPath"] = str((REPO / c["agent-runtime:agents"]["keda"]["localPath"]).resolve())
    c["agent-runtime:gateway"]["chart"]["localPath"] = str((REPO / c["agent-runtime:gateway"]["chart"]["localPath"]).resolve())
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp_path


def _check(project: Path, stack: str = "dev", *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = check.report(stack, project, schemas="--no-schemas" not in extra, out=out)
    return code, out.getvalue()


def test_a_good_stack_is_summarised_per_agent_and_passes(project):
    code, text = _check(project)
    assert code == 0, text
    assert "stack dev (environment dev, profile dev): 3 agent(s), 2 MCP server(s)" in text
    assert "agent orchestrator  (agents/orchestrator.yaml; tenant retail; version 2.0.0)" in text
    assert "route    POST /api/v1/agents/orchestrator/chat  public -> orchestrator-chat v2.0.0" in text
    assert "scaling  KEDA 0-4 (scales to zero)" in text and "scaling  HPA 2-10" in text
    assert "sandbox  code-exec (python, shell, files)" in text
    assert "reads    Secret product-catalog-mcp (created elsewhere)" in text
    assert "reads    ConfigMap conversation-prompts (supplied by the stack)" in text
    assert "policy pack (policies/config.dev.json): 0 mandatory violation(s)" in text
    assert "schemas: 0 problem(s)" in text


def test_the_summary_says_where_each_agents_behaviour_lives(project):
    code, text = _check(project, "dev", "--no-schemas")
    assert "config   in each version's ConfigMap (changes roll the pods)" in text
    stack_file = project / "Pulumi.dev.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["agent-runtime:registry"] = {"enabled": True, "serverAddr": "http://127.0.0.1:8848"}
    config["config"]["agent-runtime:nacosAdminPassword"] = {"secure": "v1:stand-in"}
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False))
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 0, text
    assert "config   live from Nacos: tenant-retail/agent-runtime/conversation_1.2.0.json, tenant-retail/agent-runtime/conversation_1.3.0.json" in text


def test_spec_mistakes_are_named_by_file_and_line(project):
    path = project / "agents" / "orchestrator.yaml"
    path.write_text(path.read_text().replace("temperature: 0.2", "temperature: 9"))
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 1
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if "temperature: 9" in l)
    assert f"agents/orchestrator.yaml:{line} model.temperature: must be <= 2 (got 9)" in text
    assert "Traceback" not in text


def test_setting_mistakes_are_named_by_stack_file_line_with_a_suggestion(project):
    stack_file = project / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("    replicas: 1\n", "    replica: 1\n", 1))
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 1
    line = next(i for i, l in enumerate(stack_file.read_text().splitlines(), 1) if l.strip() == "replica: 1")
    assert f"Pulumi.dev.yaml:{line} agent-runtime:nacos.replica: unknown setting (did you mean 'replicas'?)" in text


def test_a_reference_nothing_provides_fails_the_check(project):
    stack_file = project / "Pulumi.dev.yaml"
    config = yaml.safe_load(stack_file.read_text())
    config["config"]["agent-runtime:agents"]["externalSecrets"].remove("research/web-search-mcp")
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False))
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 1
    assert "research-assistant.yaml:" in text and "Secret 'web-search-mcp' (key 'api-key') is provided by nothing in tenant 'research'" in text


def test_a_mandatory_policy_violation_fails_the_check(project, monkeypatch):
    strict = {**check.config_file("dev"), "gateway-replicas": {"environment": "prod", "enforceIn": ["prod"], "minReplicas": 9}}
    monkeypatch.setattr(check, "config_file", lambda _profile: strict)
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 1
    assert "1 mandatory violation(s)" in text and "[mandatory] gateway-replicas:" in text


def test_encrypted_settings_are_stand_ins_and_agent_secrets_set_by_path_are_checked(project):
    stack_file = project / "Pulumi.dev.yaml"
    config = yaml.safe_load(stack_file.read_text())
    c = config["config"]
    c["agent-runtime:agents"]["externalSecrets"] = [e for e in c["agent-runtime:agents"]["externalSecrets"] if e != "retail/memory-credentials"]
    # what `pulumi config set --secret --path agentSecrets.retail.memory-credentials.pinecone-api-key` writes
    c["agent-runtime:agentSecrets"] = {"retail": {"memory-credentials": {"pinecone-api-key": {"secure": "v1:abc:def"}}}}
    c["agent-runtime:nacosAdminPassword"] = {"secure": "v1:abc:def"}
    stack_file.write_text(yaml.safe_dump(config, sort_keys=False))
    code, text = _check(project, "dev", "--no-schemas")
    assert code == 0, text
    assert "reads    Secret memory-credentials (supplied by the stack)" in text


def test_the_command_line(project):
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check.py"), "--stack", "nope", "--project-dir", str(project)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Pulumi.nope.yaml: no such stack file" in proc.stderr
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check.py"), "--stack", "dev", "--project-dir", str(project), "--no-schemas"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not checked here: chart contents" in proc.stdout
