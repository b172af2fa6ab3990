"""scripts/stack.py without an engine run: engine choice, environment, commands, secrets, events.

The runs themselves are end-to-end tests (tests/e2e); these pin what the runner decides.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import stack as runner  # noqa: E402


def _fake_cli(directory: Path, name: str = "pulumi") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    cli = directory / name
    cli.write_text("#!/bin/sh\necho v0.0.0\n")
    cli.chmod(cli.stat().st_mode | stat.S_IXUSR)
    return cli


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No engine anywhere: an empty cache and a PATH without pulumi."""
    for var in ("AGENT_RUNTIME_PULUMI", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AGENT_RUNTIME_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    return tmp_path


def test_no_engine_is_a_clear_error_never_a_fallback(isolated):
    with pytest.raises(runner.StackRunError, match="no Pulumi engine on this machine: run `bash scripts/setup-pulumi.sh`"):
        runner.find_engine()
    assert runner.main(["preview", "--stack", "dev"]) == 2


def test_the_cached_build_wins_and_brings_its_own_plugin_home(isolated, monkeypatch):
    prefix = isolated / "cache" / "pulumi" / runner.engine_pins()["PULUMI_CLI_VERSION"]
    cli = _fake_cli(prefix / "bin")
    _fake_cli(isolated / "empty-path")  # a pulumi on PATH loses to the pinned build
    engine = runner.find_engine()
    assert engine.cli == cli and engine.home == prefix / "home"
    env = runner.engine_environment(engine)
    assert env["PULUMI_HOME"] == str(prefix / "home")
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
    assert env["PATH"].split(os.pathsep)[0] == str(prefix / "bin")


def test_a_pulumi_on_path_keeps_the_users_own_home(isolated):
    cli = _fake_cli(isolated / "empty-path")
    engine = runner.find_engine()
    assert engine.cli == cli and engine.home is None
    env = runner.engine_environment(engine)
    assert "PULUMI_HOME" not in env or env["PULUMI_HOME"] == os.environ.get("PULUMI_HOME")


def test_state_defaults_to_a_local_backend_with_a_generated_passphrase(isolated):
    env = runner.engine_environment(runner.Engine(_fake_cli(isolated / "bin")))
    state = isolated / "cache" / "state"
    assert env["PULUMI_BACKEND_URL"] == f"file://{state}"
    passphrase = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert passphrase.parent == state and len(passphrase.read_text()) >= 32
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    again = runner.engine_environment(runner.Engine(isolated / "bin" / "pulumi"))
    assert Path(again["PULUMI_CONFIG_PASSPHRASE_FILE"]).read_text() == passphrase.read_text(), "generated once"
    # the program's dynamic providers and the policy pack run in this venv
    assert env["PULUMI_RUNTIME_VIRTUALENV"] == sys.prefix and env["AGENT_RUNTIME_PYTHON"] == sys.executable
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO)


def test_an_explicit_backend_and_passphrase_are_kept(isolated, monkeypatch):
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://bucket/state")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "team-secret")
    env = runner.engine_environment(runner.Engine(_fake_cli(isolated / "bin")))
    assert env["PULUMI_BACKEND_URL"] == "s3://bucket/state" and "PULUMI_CONFIG_PASSPHRASE_FILE" not in env


def test_a_stack_named_by_the_team_uses_its_profiles_policy_config(isolated):
    project = _project(isolated / "project", environment="staging", config_extra="  agent-runtime:profile: prod\n")
    assert runner.StackTarget("staging", project).policy_config() == REPO / "policies" / "config.prod.json"


def _project(tmp_path: Path, environment: str = "dev", config_extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: agent-runtime\nruntime: python\n")
    (tmp_path / "Pulumi.staging.yaml").write_text(f"config:\n  agent-runtime:environment: {environment}\n{config_extra}")
    return tmp_path


def test_the_cli_path_runs_the_policy_pack_with_the_stacks_environment_config(isolated):
    project = _project(isolated / "project", environment="prod")
    engine = runner.Engine(_fake_cli(isolated / "bin"))
    r = runner.StackRunner(runner.StackTarget("staging", project), engine=engine, use_cli=True)
    cmd = r.cli_command("up", yes=True, diff=True, expect_no_changes=False, parallel=8)
    assert cmd[:6] == [str(engine.cli), "up", "--stack", "staging", "--cwd", str(project)]
    assert cmd[cmd.index("--policy-pack") + 1] == str(REPO / "policies" / "analyzer")
    assert cmd[cmd.index("--policy-pack-config") + 1] == str(REPO / "policies" / "config.prod.json")
    assert {"--yes", "--diff", "--non-interactive"} <= set(cmd) and cmd[cmd.index("--parallel") + 1] == "8"
    # refresh and destroy take no policy pack (the engine runs packs on previews and updates)
    assert "--policy-pack" not in r.cli_command("destroy", yes=True, diff=False, expect_no_changes=False, parallel=None)


def test_a_stack_without_a_policy_config_for_its_environment_is_refused(isolated):
    project = _project(isolated / "project", environment="qa")
    target = runner.StackTarget("staging", project)
    with pytest.raises(runner.StackRunError, match="follows profile 'qa' .*; there is no policies/config.qa.json"):
        target.policy_config()
    with pytest.raises(runner.StackRunError, match="Pulumi.nope.yaml: no such stack file"):
        runner.StackTarget("nope", project).config()


def test_changing_operations_need_yes(isolated):
    project = _project(isolated / "project")
    r = runner.StackRunner(runner.StackTarget("staging", project), engine=runner.Engine(_fake_cli(isolated / "bin")), use_cli=True)
    for operation in ("up", "refresh", "destroy"):
        with pytest.raises(runner.StackRunError, match="pass --yes"):
            r.run(operation, yes=False)


def test_missing_secrets_are_exactly_the_ones_the_program_would_generate(isolated):
    project = _project(isolated / "project", config_extra="  agent-runtime:nacosAdminPassword:\n    secure: v1:abc\n")
    assert runner.StackTarget("staging", project).missing_secrets() == ["nacosAuthToken", "nacosIdentityValue"]
    token = runner.GENERATED_SECRETS["nacosAuthToken"]()
    import base64

    assert len(base64.b64decode(token)) == 32  # what models/settings.py requires of it
    assert len(runner.GENERATED_SECRETS["nacosAdminPassword"]()) >= 12
    assert len(runner.GENERATED_SECRETS["nacosIdentityValue"]()) >= 16


def test_a_stack_with_the_queue_also_gets_the_queue_secrets(isolated):
    project = _project(isolated / "project", config_extra="  agent-runtime:messageQueue:\n    enabled: true\n")
    missing = runner.StackTarget("staging", project).missing_secrets()
    assert missing[-2:] == ["messageQueueAdminPassword", "messageQueueCredentialSeed"]
    from models.settings import PlatformSecrets

    # what the settings require of them (length, characters the broker's config files take)
    PlatformSecrets(
        message_queue_admin_password=runner.QUEUE_SECRETS["messageQueueAdminPassword"](),
        message_queue_credential_seed=runner.QUEUE_SECRETS["messageQueueCredentialSeed"](),
    )


def test_the_event_log_keeps_steps_violations_and_the_summary(tmp_path):
    log = runner.EventLog(tmp_path / "events.jsonl")
    log.add_raw({"resourcePreEvent": {"metadata": {"op": "update", "urn": "urn:a", "type": "t", "diffs": ["data"]}}})
    log.add_raw({"policyEvent": {"policyName": "no-privileged-containers", "enforcementLevel": "mandatory", "resourceUrn": "urn:b", "message": "m"}})
    log.add_raw({"diagnosticEvent": {"message": "ignored"}})
    log.add_raw({"summaryEvent": {"resourceChanges": {"update": 1, "same": 3}}})
    log.write()
    records = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert records == [
        {"op": "update", "urn": "urn:a", "type": "t", "diffs": ["data"]},
        {"policy": "no-privileged-containers", "level": "mandatory", "urn": "urn:b", "message": "m"},
        {"summary": {"update": 1, "same": 3}},
    ]


def test_the_policy_analyzer_entry_point_is_executable_and_names_the_pack():
    analyzer = REPO / "policies" / "analyzer"
    assert os.access(analyzer, os.X_OK)
    assert (analyzer.parent / "PulumiPolicy.yaml").is_file()
    assert "AGENT_RUNTIME_PYTHON" in analyzer.read_text()


def test_sdk_pins_match_the_engine_the_project_installs():
    """No 'expected version' warning, no plugin download: the SDKs ask for exactly what setup-pulumi.sh builds."""
    pins = runner.engine_pins()
    requirements = dict(line.split("==") for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line and not line.startswith("#"))
    assert requirements["pulumi-kubernetes"] == pins["PULUMI_KUBERNETES_VERSION"]
    assert requirements["pulumi-random"] == pins["PULUMI_RANDOM_VERSION"]
    cli = tuple(int(p) for p in pins["PULUMI_CLI_VERSION"].split("."))
    assert cli >= tuple(int(p) for p in requirements["pulumi"].split(".")), "the CLI must be at least the SDK's version"
