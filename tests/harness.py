"""The tests' way to run the real `__main__.py` under Pulumi mocks (offline/program.py), on their own fixtures.

Fixture stacks and agents live in tests/fixtures/: a team's changes to its Pulumi.*.yaml or
agents/ never reach these tests. The recorder and the run itself are offline/program.py's.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import yaml

REPO = Path(__file__).resolve().parent.parent
PROJECT = "agent-runtime"
# stands in for a stack's kubeconfig file under mocks (the program checks the file exists)
OFFLINE_KUBECONFIG = "tests/fixtures/offline.kubeconfig"
# the tests' own stacks and agents: a user's changes to Pulumi.*.yaml or agents/ never reach them
FIXTURES = REPO / "tests" / "fixtures"
FIXTURE_STACKS = FIXTURES / "stacks"
FIXTURE_AGENTS = FIXTURES / "agents"
# what `scripts/stack.py init-secrets` would put into a stack with messageQueue.enabled (test values)
FIXTURE_QUEUE_SECRETS = {
    "messageQueueAdminPassword": "fixture-queue-admin-password",
    "messageQueueCredentialSeed": "fixture-queue-credential-seed-0123456789abcdef",
}
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import offline.program as offline  # noqa: E402
from offline.program import (  # noqa: E402,F401 - the tests' names for them
    SECRET_MARK,
    SECRET_SIG,
    PlatformMocks,
    ProgramRun,
    Registered,
    RecordingMonitor,
)


def stack_file_config(stack: str, stack_file: Optional[Path] = None) -> dict[str, Any]:
    """The project-namespace settings of the fixture Pulumi.<stack>.yaml (or `stack_file`), as the engine passes them.

    A kubeconfig file the stack names is replaced by OFFLINE_KUBECONFIG: mock runs never
    connect, and the test machine need not have the stack's cluster. Secure (encrypted)
    values are left out: pass them as `secrets`.
    """
    data = yaml.safe_load((stack_file or FIXTURE_STACKS / f"Pulumi.{stack}.yaml").read_text())
    config = {
        k: v
        for k, v in (data.get("config") or {}).items()
        if k.startswith(f"{PROJECT}:") and not (isinstance(v, dict) and "secure" in v)
    }
    target = config.get(f"{PROJECT}:kubernetes")
    if isinstance(target, dict) and target.get("kubeconfig"):
        config[f"{PROJECT}:kubernetes"] = {**target, "kubeconfig": OFFLINE_KUBECONFIG}
    return config


def agents_override(stack: str, **changes: Any) -> dict[str, Any]:
    """`overrides` for run_program: the fixture stack's agents block with some settings changed."""
    return {"agents": {**stack_file_config(stack)[f"{PROJECT}:agents"], **changes}}


def run_program(
    stack: str,
    overrides: Optional[dict[str, Any]] = None,
    secrets: Optional[dict[str, str]] = None,
    plain_secrets: Optional[dict[str, str]] = None,
    remove: tuple[str, ...] = (),
    direct_echo: bool = True,
    stack_file: Optional[Path] = None,
) -> ProgramRun:
    """Run __main__.py for `stack` under mocks with its fixture stack file (or `stack_file`), plus overrides.

    `overrides`/`remove` take keys without the project prefix; `secrets` are set as
    secret config, `plain_secrets` as (wrongly) plain config. `direct_echo=False` sends every
    registration through the SDK's own mock round trip (the benchmark's reference point).
    """
    config = stack_file_config(stack, stack_file)
    for key in remove:
        config.pop(f"{PROJECT}:{key}", None)
    for key, value in (overrides or {}).items():
        config[f"{PROJECT}:{key}"] = value
    queue = config.get(f"{PROJECT}:messageQueue")
    if isinstance(queue, dict) and queue.get("enabled") is True:
        # a stack with the queue on holds its secrets (init-secrets); the fixtures' stand-ins, unless the test sets them
        given = {*(secrets or {}), *(plain_secrets or {}), *remove}
        secrets = {**{k: v for k, v in FIXTURE_QUEUE_SECRETS.items() if k not in given}, **(secrets or {})}
    secret_keys = []
    for key, value in (secrets or {}).items():
        config[f"{PROJECT}:{key}"] = value
        secret_keys.append(f"{PROJECT}:{key}")
    for key, value in (plain_secrets or {}).items():
        config[f"{PROJECT}:{key}"] = value
    return offline.run_program(
        stack,
        config,
        secret_keys,
        project_dir=REPO,
        # stack-setting errors name lines of the file the settings came from: the fixture, not the repo's
        stack_file=stack_file or FIXTURE_STACKS / f"Pulumi.{stack}.yaml",
        direct_echo=direct_echo,
        monitor_class=RecordingMonitor,
    )


def fixture_stack(stack: str):
    """The fixture stack's validated settings (StackConfig), its secrets as the stack would hold them."""
    from models.settings import parse_stack_config

    raw = {k.split(":", 1)[1]: v for k, v in stack_file_config(stack).items()}
    queue = raw.get("messageQueue")
    if isinstance(queue, dict) and queue.get("enabled") is True:
        raw.update(FIXTURE_QUEUE_SECRETS)
    return parse_stack_config(raw, secret_keys=set(FIXTURE_QUEUE_SECRETS) & set(raw))[0]
