"""Whatever the repository holds - its Pulumi.<stack>.yaml files and the agents they deploy - validates and renders.

Every other test uses its own fixtures (tests/fixtures/), so a team adding, changing or
deleting agents under agents/, or adding a stack, never breaks them. This file is the one
place that looks at the team's own files, and it asserts nothing about their content:
each stack's program runs under mocks, deploys every agent it selects, and passes the
policy pack with the stack's own policy config; every spec matches the published schemas.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from pulumi_policy import EnforcementLevel

sys.path.insert(0, str(Path(__file__).resolve().parent))

from models.settings import StackConfig, parse_stack_config  # noqa: E402
from models.stack_agents import load_stack_agents  # noqa: E402
from harness import REPO, run_program, stack_file_config  # noqa: E402
from policy_cases import support as S  # noqa: E402

STACK_FILES = sorted(REPO.glob("Pulumi.*.yaml"))
# stand-ins for the secrets a stack file holds encrypted (mock runs never decrypt them)
STAND_IN = {"nacosAuthToken": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "gatewayKeyAuthCredentials": '{"stand-in": "credential"}'}


def _stack_name(path: Path) -> str:
    return path.name[len("Pulumi."):-len(".yaml")]


def _secrets(path: Path) -> dict[str, str]:
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    keys = [k.split(":", 1)[1] for k, v in config.items() if k.startswith("agent-runtime:") and isinstance(v, dict) and "secure" in v]
    return {k: STAND_IN.get(k, "stand-in-secret-" + "x" * 24) for k in keys}


def test_the_repository_has_stacks():
    assert STACK_FILES, "no Pulumi.<stack>.yaml in the repository"


def _stack(stack_file: Path) -> tuple[str, dict[str, str], StackConfig]:
    stack_name = _stack_name(stack_file)
    secrets = _secrets(stack_file)
    config = {k.split(":", 1)[1]: v for k, v in stack_file_config(stack_name, stack_file).items()}
    stack, _ = parse_stack_config({**config, **secrets})
    return stack_name, secrets, stack


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=_stack_name)
def test_each_stack_renders_every_agent_it_selects_and_passes_the_policy_pack(stack_file):
    stack_name, secrets, stack = _stack(stack_file)
    run = run_program(stack_name, secrets=secrets, stack_file=stack_file)
    catalog = load_stack_agents(stack, REPO)  # the files its agents.include selects, subdirectories too
    agents = {r.name.removeprefix("agent-") for r in run.of_type("agent-runtime:agents:Agent")}
    assert agents == {a.name for a in catalog.agents}
    found = S.run_direct(S.from_registered(run.resources), given=S.config_file(stack.hardening))
    violations = [v for v in found if v.level == EnforcementLevel.MANDATORY]
    assert not violations, "\n".join(f"{v.policy}: {v.message}" for v in violations)


def _selected(directory: Path, patterns: list[str]) -> list[Path]:
    return sorted({p for pattern in patterns for p in directory.glob(pattern) if p.suffix in (".yaml", ".yml")})


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=_stack_name)
def test_every_agent_and_mcp_file_a_stack_selects_matches_the_published_schemas(stack_file):
    _, _, stack = _stack(stack_file)
    directory = Path(stack.agents.directory)
    directory = directory if directory.is_absolute() else REPO / directory
    agent_schema = json.loads((REPO / "agents" / "schema.json").read_text())
    mcp_schema = json.loads((REPO / "agents" / "mcp" / "schema.json").read_text())
    for path in _selected(directory, stack.agents.include):
        jsonschema.validate(yaml.safe_load(path.read_text()), agent_schema)
    for path in _selected(directory, stack.agents.mcp_include):
        jsonschema.validate(yaml.safe_load(path.read_text()), mcp_schema)
