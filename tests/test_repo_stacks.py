"""Whatever the repository holds - its Pulumi.<stack>.yaml files and the agents they deploy - passes the check.

Every other test uses its own fixtures (tests/fixtures/), so a team adding, changing or
deleting agents under agents/, or adding a stack, never breaks them. This file is the one
place that looks at the team's own files, and it asserts nothing about their content: each
stack passes `scripts/check.py` (settings, the agents its `agents.include` selects, rendering,
Kubernetes and CRD schemas, the whole policy pack with its profile's config), and every spec
file a stack selects matches the published JSON schemas editors use.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness import REPO
from models.settings import StackConfig, parse_stack_config
from offline.stack import read_stack_file

sys.path.insert(0, str(REPO / "scripts"))
import check  # noqa: E402

STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml"))


def _stack_name(path: Path) -> str:
    return path.name[len("Pulumi."):-len(".yaml")]


def _stack(stack_file: Path) -> StackConfig:
    """The stack's settings as the check reads them (encrypted values as stand-ins)."""
    with tempfile.NamedTemporaryFile() as kubeconfig:
        settings = read_stack_file(stack_file, Path(kubeconfig.name))
    raw = {k.split(":", 1)[1]: v for k, v in settings.config.items() if k.startswith("agent-runtime:")}
    stack, _ = parse_stack_config(raw)
    return stack


def test_the_repository_has_stacks():
    assert STACK_FILES, "no Pulumi.<stack>.yaml in the repository"


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=_stack_name)
def test_each_stack_passes_the_check_a_team_runs_in_its_ci(stack_file):
    out = io.StringIO()
    code = check.report(_stack_name(stack_file), REPO, out=out)
    assert code == 0, out.getvalue()


def _selected(directory: Path, patterns: list[str]) -> list[Path]:
    return sorted({p for pattern in patterns for p in directory.glob(pattern) if p.suffix in (".yaml", ".yml")})


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=_stack_name)
def test_every_agent_and_mcp_file_a_stack_selects_matches_the_published_schemas(stack_file):
    stack = _stack(stack_file)
    directory = Path(stack.agents.directory)
    directory = directory if directory.is_absolute() else REPO / directory
    agent_schema = json.loads((REPO / "agents" / "schema.json").read_text())
    mcp_schema = json.loads((REPO / "agents" / "mcp" / "schema.json").read_text())
    for path in _selected(directory, stack.agents.include):
        jsonschema.validate(yaml.safe_load(path.read_text()), agent_schema)
    for path in _selected(directory, stack.agents.mcp_include):
        jsonschema.validate(yaml.safe_load(path.read_text()), mcp_schema)
