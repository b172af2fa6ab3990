"""A team's stack, as the engine would hand it to the program, without the engine.

Reads `Pulumi.<stack>.yaml` of a project: plain settings as they are; encrypted ones
(`secure:`) as stand-ins, marked secret, keeping their shape where `--path` set them leaf by
leaf (so the Secrets `agentSecrets` supplies can still be checked). A kubeconfig file the
stack names is replaced by a stand-in: offline runs never connect.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.program import PROJECT, ProgramRun, run_program

# what a stand-in for an encrypted setting looks like, where its shape is checked
STAND_INS = {
    f"{PROJECT}:nacosAuthToken": base64.b64encode(b"\x01" * 32).decode(),
    f"{PROJECT}:gatewayKeyAuthCredentials": '{"stand-in": "credential"}',
}
STAND_IN = "stand-in-for-an-encrypted-setting"
OFFLINE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: offline, user: {}}]
contexts: [{name: offline, context: {cluster: offline, user: offline}}]
current-context: offline
"""


class StackFileError(Exception):
    """The stack file cannot be read as a stack (missing, not YAML, no config)."""


@dataclass
class StackSettings:
    config: dict[str, Any]
    secret_keys: list[str]
    # encrypted as one value: what they hold cannot be seen without the passphrase
    opaque_secrets: list[str] = field(default_factory=list)
    # not set yet; `scripts/stack.py init-secrets` generates them before the first up (stood in for here)
    generated_later: list[str] = field(default_factory=list)


# secrets a stack with the queue on needs, which init-secrets generates (scripts/stack.py QUEUE_SECRETS)
QUEUE_SECRETS = (f"{PROJECT}:messageQueueAdminPassword", f"{PROJECT}:messageQueueCredentialSeed")


def _stand_in(value: Any) -> tuple[Any, bool]:
    """The value with every `{secure: ...}` leaf replaced; True when there was one."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return STAND_IN, True
    if isinstance(value, dict):
        pairs = {k: _stand_in(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        pairs = [_stand_in(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    return value, False


def read_stack_file(stack_file: Path, kubeconfig_stand_in: Path) -> StackSettings:
    if not stack_file.is_file():
        raise StackFileError(f"{stack_file}: no such stack file")
    try:
        data = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise StackFileError(f"{stack_file}: not valid YAML: {exc}") from None
    if not isinstance(data.get("config"), dict):
        raise StackFileError(f"{stack_file}: has no `config:` block")
    settings = StackSettings(config={}, secret_keys=[])
    for key, raw in data["config"].items():
        value, secret = _stand_in(raw)
        if isinstance(raw, dict) and set(raw) == {"secure"}:
            value = STAND_INS.get(key, STAND_IN)
            if key == f"{PROJECT}:agentSecrets":
                settings.opaque_secrets.append(key)
                value = "{}"
        settings.config[key] = value
        if secret:
            settings.secret_keys.append(key)
    queue = settings.config.get(f"{PROJECT}:messageQueue")
    if isinstance(queue, dict) and queue.get("enabled") is True:
        for key in QUEUE_SECRETS:
            if key not in settings.config:
                settings.config[key] = STAND_IN
                settings.secret_keys.append(key)
                settings.generated_later.append(key)
    target = settings.config.get(f"{PROJECT}:kubernetes")
    if isinstance(target, dict) and target.get("kubeconfig"):
        settings.config[f"{PROJECT}:kubernetes"] = {**target, "kubeconfig": str(kubeconfig_stand_in)}
    return settings


def run_stack(stack: str, project_dir: Path) -> tuple[ProgramRun, StackSettings]:
    """The project's program for `stack` under mocks, with the stack file's settings."""
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    with tempfile.TemporaryDirectory(prefix="offline-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(OFFLINE_KUBECONFIG)
        settings = read_stack_file(stack_file, kubeconfig)
        run = run_program(stack, settings.config, settings.secret_keys, project_dir=project_dir, stack_file=stack_file)
    return run, settings
