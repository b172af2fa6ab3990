"""`scripts/stack.py set-secret` with the real engine: the value from stdin, stored encrypted, readable by the engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, SCRIPTS, stack_mod

VALUE = "sk-set-secret-e2e-4711"


@pytest.fixture
def project(engine, tmp_path) -> tuple[Path, dict]:
    """A project dir with one stack file, its own file backend and passphrase."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    (project / "Pulumi.team.yaml").write_text(f"config:\n  {PROJECT}:environment: team\n")
    (tmp_path / "state").mkdir()
    env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "set-secret-test"}
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    return project, env


def _set_secret(project: Path, env: dict, key: str, value: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "stack.py"), "set-secret", "--stack", "team", "--project-dir", str(project), key],
        input=value, env=env, capture_output=True, text=True,
    )


def test_a_secret_from_stdin_is_stored_encrypted_at_its_path(engine, project):
    project_dir, env = project
    proc = _set_secret(project_dir, env, "agentSecrets.payments.model-keys.openai-api-key", VALUE + "\n")
    assert proc.returncode == 0, proc.stderr
    stack_file = (project_dir / "Pulumi.team.yaml").read_text()
    assert VALUE not in stack_file and VALUE not in proc.stdout + proc.stderr
    assert "secure: v1:" in stack_file and "model-keys:" in stack_file  # a path, as `--path` writes it
    # the engine itself reads it back (the trailing newline of the pipe is not part of the value)
    engine_env = {**stack_mod.engine_environment(engine), **{k: env[k] for k in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")}}
    engine_env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    got = subprocess.run(
        [str(engine.cli), "config", "get", "--path", f"{PROJECT}:agentSecrets.payments.model-keys.openai-api-key", "--stack", "team"],
        cwd=project_dir, env=engine_env, capture_output=True, text=True,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == VALUE


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("agentSecrets.payments..key", VALUE, "not a setting path"),
        ("agentSecrets.payments.model-keys.key", "", "no value on stdin; nothing was stored"),
    ],
    ids=["empty-path-segment", "no-value"],
)
def test_a_bad_key_or_no_value_stores_nothing(engine, project, key, value, expected):
    project_dir, env = project
    before = (project_dir / "Pulumi.team.yaml").read_text()
    proc = _set_secret(project_dir, env, key, value)
    assert proc.returncode == 2
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert (project_dir / "Pulumi.team.yaml").read_text() == before
