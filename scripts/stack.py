#!/usr/bin/env python3
"""Run one stack with the real Pulumi engine: up | preview | refresh | destroy, policy pack on.

    venv/bin/python scripts/stack.py up      --stack dev [--yes] [--diff]
    venv/bin/python scripts/stack.py preview --stack dev [--expect-no-changes] [--diff]
    venv/bin/python scripts/stack.py refresh --stack dev [--yes]
    venv/bin/python scripts/stack.py destroy --stack dev [--yes]
    venv/bin/python scripts/stack.py init-secrets --stack dev
    venv/bin/python scripts/stack.py set-secret --stack dev agentSecrets.retail.model-credentials.openai-api-key

The engine is the official `pulumi` CLI. Where its Python language host is installed, the CLI
runs the project as any Pulumi user would (`pulumi up --stack dev ...`); otherwise the
Automation API runs the project's `__main__.py` as an inline program through the same CLI
(no language host needed). Either way: the same `Pulumi.<stack>.yaml`, the same local file
backend, the policy pack with `policies/config.<profile>.json` on every `up` and
`preview`, and the engine's own diff and summary printed as it runs.

Which engine: `$AGENT_RUNTIME_PULUMI` (a `pulumi` binary), else the one
`scripts/setup-pulumi.sh` cached, else `pulumi` on PATH. No engine, no run: it never falls back.
State: `$PULUMI_BACKEND_URL`, default `file://${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/state`,
encrypted with `$PULUMI_CONFIG_PASSPHRASE`(`_FILE`), default a passphrase file generated
once next to that state (mode 0600).

`--events FILE` writes what the engine did as JSON lines, one per resource step
(`{"op", "urn", "type", "diffs"}`), per policy violation (`{"policy", "level", "urn", "message"}`)
and a final `{"summary": {...}}`: for reviews, tests and benchmarks. `--program FILE` runs
another program (e.g. one that composes this project's components) with the same stack.

`init-secrets` generates, with Python's `secrets`, every platform secret the stack leaves
unset and stores it with `pulumi config set --secret` (so no random provider is needed).
`set-secret KEY` stores one secret setting of the stack (a dotted path below `agent-runtime:`,
e.g. an agent's key under `agentSecrets`) the same way, with the same engine, backend and
passphrase; the value is read from stdin (typed without echo on a terminal), never from the
command line, so it stays out of shell history and process lists.
Exit: 0 ok, 1 the engine reported an error (printed above), 2 usage or no engine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import runpy
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import yaml

REPO = Path(__file__).resolve().parent.parent
PROJECT = "agent-runtime"
OPERATIONS = ("up", "preview", "refresh", "destroy")
POLICY_ANALYZER = REPO / "policies" / "analyzer"

# platform secrets the program would otherwise generate with pulumi-random: key -> generator
GENERATED_SECRETS: dict[str, Callable[[], str]] = {
    "nacosAdminPassword": lambda: secrets.token_urlsafe(24),
    # Nacos needs base64 of >= 32 bytes (its HS256 signing key)
    "nacosAuthToken": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "nacosIdentityValue": lambda: secrets.token_urlsafe(30),
}
# secrets a stack with `messageQueue.enabled` must hold (its provider reads them; nothing generates them later):
# the queue's initial (super) user, and the seed every agent's queue password is derived from
QUEUE_SECRETS: dict[str, Callable[[], str]] = {
    "messageQueueAdminPassword": lambda: secrets.token_urlsafe(24),
    "messageQueueCredentialSeed": lambda: secrets.token_urlsafe(48),
}


class StackRunError(Exception):
    """A problem the user fixes (no engine, no stack file, bad option): printed without a traceback."""


def cache_root() -> Path:
    return Path(os.environ.get("AGENT_RUNTIME_CACHE") or Path.home() / ".cache" / "agent-runtime")


def engine_pins() -> dict[str, str]:
    """The versions in scripts/engine.env (KEY=VALUE lines)."""
    pins = {}
    for line in (REPO / "scripts" / "engine.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            pins[key.strip()] = value.strip()
    return pins


@dataclass(frozen=True)
class Engine:
    """A Pulumi CLI and, when it is our cached build, the PULUMI_HOME its plugins are registered in."""

    cli: Path
    home: Optional[Path] = None

    @property
    def language_host(self) -> Optional[Path]:
        beside = self.cli.parent / "pulumi-language-python"
        return beside if beside.exists() else (Path(p) if (p := shutil.which("pulumi-language-python")) else None)

    def version(self) -> str:
        return subprocess.run([str(self.cli), "version"], capture_output=True, text=True, env=_cli_env(self)).stdout.strip()


def find_engine() -> Engine:
    explicit = os.environ.get("AGENT_RUNTIME_PULUMI")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise StackRunError(f"AGENT_RUNTIME_PULUMI={explicit} is not an executable pulumi CLI")
        return Engine(Path(explicit))
    prefix = cache_root() / "pulumi" / engine_pins()["PULUMI_CLI_VERSION"]
    if os.access(prefix / "bin" / "pulumi", os.X_OK):
        return Engine(prefix / "bin" / "pulumi", prefix / "home")
    on_path = shutil.which("pulumi")
    if on_path:
        return Engine(Path(on_path))
    raise StackRunError(
        "no Pulumi engine on this machine: run `bash scripts/setup-pulumi.sh` (it installs or builds the pinned "
        "CLI and Kubernetes provider) or install the Pulumi CLI; nothing was run"
    )


def _cli_env(engine: Engine) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{engine.cli.parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    if engine.home is not None:
        # our build: its plugins are registered in its own home; never reach for the network
        env["PULUMI_HOME"] = str(engine.home)
        env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
        env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
    return env


def engine_environment(engine: Engine) -> dict[str, str]:
    """Everything the CLI, the dynamic-provider host and the policy analyzer need."""
    env = _cli_env(engine)
    state = cache_root() / "state"
    if not env.get("PULUMI_BACKEND_URL"):
        state.mkdir(parents=True, exist_ok=True)
        env["PULUMI_BACKEND_URL"] = f"file://{state}"
    if not env.get("PULUMI_CONFIG_PASSPHRASE") and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        env["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(_passphrase_file(state))
    # the dynamic providers (nacos_registry) and the policy pack run in the project's venv
    env["PULUMI_RUNTIME_VIRTUALENV"] = sys.prefix
    env["AGENT_RUNTIME_PYTHON"] = sys.executable
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _passphrase_file(state: Path) -> Path:
    path = state / "passphrase"
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
    return path


@dataclass(frozen=True)
class StackTarget:
    """A stack of a project directory (Pulumi.yaml + Pulumi.<stack>.yaml); the program is always this repo's."""

    name: str
    project_dir: Path

    @property
    def stack_file(self) -> Path:
        return self.project_dir / f"Pulumi.{self.name}.yaml"

    def config(self) -> dict:
        if not self.stack_file.exists():
            raise StackRunError(f"{self.stack_file}: no such stack file (stacks are Pulumi.<stack>.yaml in {self.project_dir})")
        try:
            return (yaml.safe_load(self.stack_file.read_text()) or {}).get("config") or {}
        except yaml.YAMLError as exc:
            raise StackRunError(f"{self.stack_file}: not valid YAML: {exc}") from None

    def profile(self) -> Optional[str]:
        """The hardening profile the stack follows: `profile`, else its `environment` (dev and prod name their own)."""
        config = self.config()
        return config.get(f"{PROJECT}:profile") or config.get(f"{PROJECT}:environment")

    def policy_config(self) -> Path:
        profile = self.profile()
        path = REPO / "policies" / f"config.{profile}.json"
        if not path.exists():
            raise StackRunError(
                f"{self.stack_file}: the stack follows profile {profile!r} ({PROJECT}:profile, else {PROJECT}:environment); "
                f"there is no {path.relative_to(REPO)}"
            )
        return path

    def missing_secrets(self) -> list[str]:
        """The generated secrets the stack leaves unset: the Nacos ones, and the queue's where the queue is enabled."""
        config = self.config()
        queue = config.get(f"{PROJECT}:messageQueue")
        wanted = [*GENERATED_SECRETS, *(QUEUE_SECRETS if isinstance(queue, dict) and queue.get("enabled") is True else ())]
        return [key for key in wanted if f"{PROJECT}:{key}" not in config]


DEFAULT_PROGRAM = REPO / "__main__.py"


def inline_program(path: Path):
    """A program file as an Automation API inline program (it runs from the project directory)."""

    def program() -> None:
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))  # the program imports components/ and nacos_registry/
        runpy.run_path(str(path), run_name="__main__")

    return program


class EventLog:
    """The engine's events, reduced to resource steps, policy violations and the summary, as JSON lines."""

    def __init__(self, path: Optional[Path]):
        self.path = path
        self.records: list[dict] = []

    def add_raw(self, event: dict) -> None:
        """One event as the engine writes it (`--event-log` JSON, camelCase)."""
        if "resourcePreEvent" in event:
            m = event["resourcePreEvent"].get("metadata", {})
            self.records.append({"op": m.get("op"), "urn": m.get("urn"), "type": m.get("type"), "diffs": m.get("diffs") or []})
        elif "policyEvent" in event:
            e = event["policyEvent"]
            self.records.append({"policy": e.get("policyName"), "level": e.get("enforcementLevel"), "urn": e.get("resourceUrn"), "message": e.get("message")})
        elif "summaryEvent" in event:
            self.records.append({"summary": event["summaryEvent"].get("resourceChanges") or {}})

    def add(self, event) -> None:
        """One Automation API EngineEvent."""
        if event.resource_pre_event is not None:
            m = event.resource_pre_event.metadata
            self.records.append({"op": getattr(m.op, "value", m.op), "urn": m.urn, "type": m.type, "diffs": list(m.diffs or [])})
        elif event.policy_event is not None:
            e = event.policy_event
            self.records.append({"policy": e.policy_name, "level": e.enforcement_level, "urn": e.resource_urn, "message": e.message})
        elif event.summary_event is not None:
            self.records.append({"summary": {getattr(k, "value", k): v for k, v in (event.summary_event.resource_changes or {}).items()}})

    def write(self) -> None:
        if self.path is not None:
            self.path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in self.records))


def _print_line(line: str) -> None:
    print(line, flush=True)


class StackRunner:
    """One stack, one engine: each operation prints the engine's output and returns its exit code."""

    def __init__(
        self,
        target: StackTarget,
        engine: Optional[Engine] = None,
        use_cli: Optional[bool] = None,
        program: Path = DEFAULT_PROGRAM,
        on_output=_print_line,
    ):
        self.target = target
        self.engine = engine or find_engine()
        self.env = engine_environment(self.engine)
        self.program = program.resolve()
        # the CLI runs the project's own entry point; any other program goes through the Automation API
        has_host = self.engine.language_host is not None and self.program == DEFAULT_PROGRAM
        self.use_cli = has_host if use_cli is None else use_cli
        self.on_output = on_output

    # ---- the two ways to drive the engine

    def cli_command(self, operation: str, yes: bool, diff: bool, expect_no_changes: bool, parallel: Optional[int]) -> list[str]:
        cmd = [str(self.engine.cli), operation, "--stack", self.target.name, "--cwd", str(self.target.project_dir), "--non-interactive"]
        if operation in ("up", "preview"):
            cmd += ["--policy-pack", str(POLICY_ANALYZER), "--policy-pack-config", str(self.target.policy_config())]
        if yes and operation != "preview":
            cmd.append("--yes")
        if diff and operation in ("up", "preview"):
            cmd.append("--diff")
        if expect_no_changes:
            cmd.append("--expect-no-changes")
        if parallel:
            cmd += ["--parallel", str(parallel)]
        return cmd

    def _workspace_stack(self):
        from pulumi import automation as auto

        opts = auto.LocalWorkspaceOptions(
            work_dir=str(self.target.project_dir),
            env_vars=self.env,
            pulumi_home=self.env.get("PULUMI_HOME"),
            pulumi_command=auto.PulumiCommand(root=str(self.engine.cli.parent.parent)) if self.engine.cli.parent.name == "bin" else None,
        )
        return auto.create_or_select_stack(
            stack_name=self.target.name, project_name=PROJECT, program=inline_program(self.program), opts=opts
        )

    def run(
        self,
        operation: str,
        yes: bool = True,
        diff: bool = False,
        expect_no_changes: bool = False,
        parallel: Optional[int] = None,
        events: Optional[Path] = None,
        skip_preview: bool = False,
    ) -> int:
        if operation not in OPERATIONS:
            raise StackRunError(f"unknown operation {operation!r}: one of {', '.join(OPERATIONS)}")
        if operation in ("up", "refresh", "destroy") and not yes:
            raise StackRunError(f"`{operation}` changes the stack; pass --yes (run `preview` first to see what it would do)")
        self.target.config()  # the stack file exists and parses
        os.environ.update(self.env)  # the inline program and the providers it starts see the same settings
        log = EventLog(events)
        try:
            if self.use_cli:
                return self._run_cli(operation, yes, diff, expect_no_changes, parallel, log, skip_preview)
            return self._run_inline(operation, diff, expect_no_changes, parallel, log, skip_preview)
        finally:
            log.write()

    def _run_cli(
        self, operation: str, yes: bool, diff: bool, expect_no_changes: bool, parallel: Optional[int], log: EventLog, skip_preview: bool
    ) -> int:
        cmd = self.cli_command(operation, yes, diff, expect_no_changes, parallel)
        if skip_preview and operation == "up":
            cmd.append("--skip-preview")
        with tempfile.TemporaryDirectory() as tmp:
            event_file = Path(tmp) / "events.json"
            code = subprocess.run([*cmd, "--event-log", str(event_file)], env=self.env, cwd=self.target.project_dir).returncode
            if event_file.exists():
                for line in event_file.read_text().splitlines():
                    if line.strip():
                        log.add_raw(json.loads(line))
        return code

    def _run_inline(
        self, operation: str, diff: bool, expect_no_changes: bool, parallel: Optional[int], log: EventLog, skip_preview: bool
    ) -> int:
        from pulumi import automation as auto

        cwd = os.getcwd()
        os.chdir(self.target.project_dir)  # relative paths in the stack file mean the project directory
        try:
            stack = self._workspace_stack()
            common = {"on_output": self.on_output, "on_error": self.on_output, "on_event": log.add}
            if parallel:
                common["parallel"] = parallel
            policy = {"policy_packs": [str(POLICY_ANALYZER)], "policy_pack_configs": [str(self.target.policy_config())]}
            if operation == "up":
                if not skip_preview:
                    # as `pulumi up --yes` does: policies see the whole change before any of it is applied
                    stack.preview(diff=diff, expect_no_changes=expect_no_changes or None, **policy, **common)
                stack.up(diff=diff, expect_no_changes=expect_no_changes or None, **policy, **common)
            elif operation == "preview":
                stack.preview(diff=diff, expect_no_changes=expect_no_changes or None, **policy, **common)
            elif operation == "refresh":
                stack.refresh(expect_no_changes=expect_no_changes or None, **common)
            else:
                stack.destroy(**common)
            return 0
        except auto.errors.CommandError:
            # the engine already printed its diagnostics through on_output/on_error
            return 1
        finally:
            os.chdir(cwd)

    def init_secrets(self) -> list[str]:
        """Generate and store (encrypted, in the stack file) every platform secret the stack leaves unset."""
        missing = self.target.missing_secrets()
        if missing:
            from pulumi import automation as auto

            stack = self._workspace_stack()
            for key in missing:
                generate = GENERATED_SECRETS.get(key) or QUEUE_SECRETS[key]
                stack.set_config(f"{PROJECT}:{key}", auto.ConfigValue(value=generate(), secret=True))
        return missing

    def set_secret(self, key: str, value: str) -> None:
        """Store one setting, encrypted, in the stack file; dots in `key` are a path (as `pulumi config set --path`)."""
        from pulumi import automation as auto

        if not key or key.startswith(".") or key.endswith(".") or ".." in key:
            raise StackRunError(f"{key!r}: not a setting path (e.g. agentSecrets.<tenant>.<secret>.<key>)")
        if not value:
            raise StackRunError(f"{key}: no value on stdin; nothing was stored")
        self.target.config()  # the stack file exists and parses
        try:
            self._workspace_stack().set_config(f"{PROJECT}:{key}", auto.ConfigValue(value=value, secret=True), path=True)
        except auto.errors.CommandError as exc:
            raise StackRunError(f"{self.target.stack_file.name}: the engine did not store {key}: {exc.stderr.strip() or exc}") from None


def read_secret_value(prompt: str) -> str:
    """The value from stdin: without echo on a terminal, else everything piped in (one trailing newline dropped)."""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    data = sys.stdin.read()
    return data[:-1] if data.endswith("\n") else data


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("operation", choices=[*OPERATIONS, "init-secrets", "set-secret"])
    parser.add_argument("key", nargs="?", help="set-secret: the setting's path below agent-runtime:, e.g. agentSecrets.<tenant>.<secret>.<key>")
    parser.add_argument("--stack", required=True, help="stack name: Pulumi.<stack>.yaml in the project directory")
    parser.add_argument("--project-dir", type=Path, default=REPO, help="directory with Pulumi.yaml and the stack file (default: this repo)")
    parser.add_argument("--yes", action="store_true", help="apply without asking (up, refresh, destroy)")
    parser.add_argument("--diff", action="store_true", help="show property-level diffs")
    parser.add_argument("--expect-no-changes", action="store_true", help="fail if the operation would change anything")
    parser.add_argument("--parallel", type=int, help="resource operations at once (engine default: unbounded)")
    parser.add_argument("--skip-preview", action="store_true", help="up: apply without the preview (and policy check) of the whole change first")
    parser.add_argument("--events", type=Path, help="write the engine's steps, policy violations and summary here (JSON lines)")
    parser.add_argument("--program", type=Path, default=DEFAULT_PROGRAM, help="the Pulumi program (default: this repo's __main__.py)")
    args = parser.parse_intermixed_args(argv)
    try:
        if not args.program.is_file():
            raise StackRunError(f"{args.program}: no such program file")
        if (args.operation == "set-secret") != (args.key is not None):
            raise StackRunError("a KEY is given with set-secret and only with it (e.g. set-secret --stack dev agentSecrets.<tenant>.<secret>.<key>)")
        runner = StackRunner(StackTarget(args.stack, args.project_dir.resolve()), program=args.program)
        mode = "pulumi CLI with its language host" if runner.use_cli else "Automation API, inline program (no language host installed)"
        print(f"stack.py: {args.operation} {args.stack} with {runner.engine.cli} {runner.engine.version()} ({mode})", file=sys.stderr, flush=True)
        if args.operation == "init-secrets":
            made = runner.init_secrets()
            print(f"stack.py: generated and stored as secrets: {', '.join(made) if made else 'nothing (all set)'}", file=sys.stderr)
            return 0
        if args.operation == "set-secret":
            runner.set_secret(args.key, read_secret_value(f"{args.key} (not echoed): "))
            print(f"stack.py: stored {PROJECT}:{args.key} as a secret in {runner.target.stack_file.name}", file=sys.stderr)
            return 0
        code = runner.run(
            args.operation, yes=args.yes, diff=args.diff, expect_no_changes=args.expect_no_changes,
            parallel=args.parallel, events=args.events, skip_preview=args.skip_preview,
        )
        if code:
            print(f"stack.py: {args.operation} of stack {args.stack!r} failed (exit {code}); the engine's messages are above", file=sys.stderr)
        return code
    except StackRunError as exc:
        print(f"stack.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
