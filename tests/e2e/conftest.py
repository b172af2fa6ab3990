"""Fixtures for the end-to-end tests: a real Pulumi engine, a local control plane and a real Nacos.

Everything is started on 127.0.0.1 for the session and stopped by PID at its end. A part
that cannot be had fails the session with the reason; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import local_plane  # noqa: E402
import nacos_server as nacos_mod  # noqa: E402
import stack as stack_mod  # noqa: E402

STACK = "e2e"
PROJECT = "agent-runtime"
VENDOR = REPO.parent / "shared" / "vendor"
HIGRESS_CHART = VENDOR / "higress-2.2.1" / "higress-core"
KEDA_CHART = VENDOR / "keda-2.20.2" / "keda"


@pytest.fixture(scope="session")
def engine() -> stack_mod.Engine:
    """The pinned engine from scripts/setup-pulumi.sh (cached; a cold build takes tens of minutes)."""
    proc = subprocess.run(["bash", str(SCRIPTS / "setup-pulumi.sh"), "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"no Pulumi engine could be installed:\n{proc.stderr[-3000:]}", pytrace=False)
    return stack_mod.find_engine()


@pytest.fixture(scope="session")
def plane(tmp_path_factory) -> local_plane.LocalPlane:
    try:
        tools = local_plane.build()
    except local_plane.PartUnavailable as exc:
        pytest.fail(f"the local control plane cannot be built: {exc}", pytrace=False)
    home = tmp_path_factory.mktemp("plane")
    plane = local_plane.LocalPlane(home, apiserver_port=local_plane.free_port(), tools=tools)
    try:
        plane.start(fresh=True)
    except local_plane.PlaneStartError as exc:
        plane.stop()
        pytest.fail(f"the local control plane did not start: {exc}", pytrace=False)
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def registry_nacos(tmp_path_factory) -> nacos_mod.NacosServer:
    """A Nacos of the e2e tests' own (the fault test stops and restarts it; its data survives)."""
    try:
        artifacts = nacos_mod.build()
    except nacos_mod.NacosBuildError as exc:
        pytest.fail(f"could not build the Nacos test server:\n{exc}", pytrace=False)
    server = nacos_mod.NacosServer(data_dir=tmp_path_factory.mktemp("e2e-nacos"))
    try:
        server.start(artifacts)
    except nacos_mod.NacosStartError as exc:
        pytest.fail(f"real Nacos did not start:\n{exc}", pytrace=False)
    server.artifacts = artifacts
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Run:
    """One `scripts/stack.py` run: its exit code, printed output and engine events."""

    code: int
    output: str
    events: list[dict] = field(default_factory=list)

    @property
    def steps(self) -> list[dict]:
        return [e for e in self.events if "op" in e]

    @property
    def changes(self) -> dict[str, str]:
        """urn -> op of every step that changes something."""
        return {s["urn"]: s["op"] for s in self.steps if s["op"] not in ("same", "read")}

    @property
    def summary(self) -> dict:
        return next((e["summary"] for e in reversed(self.events) if "summary" in e), {})

    @property
    def violations(self) -> list[dict]:
        return [e for e in self.events if "policy" in e]


@dataclass
class E2EStack:
    """The e2e stack: a temp project dir, its own agents copy, a state backend of its own."""

    project_dir: Path
    agents_dir: Path
    state_dir: Path
    env: dict
    plane: local_plane.LocalPlane
    nacos: nacos_mod.NacosServer
    log_dir: Path
    runs: int = 0

    def run(self, operation: str, *args: str, program: Optional[Path] = None, timeout: float = 1800) -> Run:
        """`scripts/stack.py <operation> --stack e2e ...` as a user runs it (a separate process)."""
        self.runs += 1
        events = self.log_dir / f"{self.runs:02d}-{operation}.events.jsonl"
        cmd = [sys.executable, str(SCRIPTS / "stack.py"), operation, "--stack", STACK, "--project-dir", str(self.project_dir), "--events", str(events), *args]
        if program is not None:
            cmd += ["--program", str(program)]
        if operation != "preview":
            cmd.append("--yes")
        started = time.monotonic()
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        output = proc.stdout + proc.stderr
        (self.log_dir / f"{self.runs:02d}-{operation}.log").write_text(f"$ {' '.join(cmd)}\n({time.monotonic() - started:.1f} s, exit {proc.returncode})\n{output}")
        parsed = [json.loads(line) for line in events.read_text().splitlines() if line.strip()] if events.exists() else []
        return Run(proc.returncode, output, parsed)

    def run_cli(self, *args: str, input: Optional[str] = None) -> str:
        """The engine's CLI on this stack (config commands and the like); fails the test on error."""
        engine = stack_mod.find_engine()
        env = {**stack_mod.engine_environment(engine), **{k: self.env[k] for k in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")}}
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        proc = subprocess.run([str(engine.cli), *args, "--stack", STACK], input=input, cwd=self.project_dir, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"pulumi {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.plane.kubectl(*args, check=check)

    def get(self, kind: str, name: str, namespace: Optional[str] = None) -> Optional[dict]:
        ns = ["-n", namespace] if namespace else []
        proc = self.kubectl("get", kind, name, *ns, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {kind} {name}: {proc.stderr}")
        return json.loads(proc.stdout)

    def edit_agent(self, name: str, edit) -> None:
        path = self.agents_dir / f"{name}.yaml"
        spec = yaml.safe_load(path.read_text())
        edit(spec)
        path.write_text(yaml.safe_dump(spec, sort_keys=False))

    def stack_config(self) -> dict:
        return (yaml.safe_load((self.project_dir / f"Pulumi.{STACK}.yaml").read_text()) or {})["config"]


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    assert "@" not in "".join(line for line in template.splitlines() if not line.lstrip().startswith("#") and "jwks" not in line), "unfilled placeholder"
    return template


def make_stack(tmp_path_factory, plane, nacos, agent_sources: list[Path], extra_config: str = "") -> E2EStack:
    """A fresh project dir and state: the agents of `agent_sources` copied into one directory, the
    stack file filled in (plus `extra_config`, stack-file lines under `config:`)."""
    root = tmp_path_factory.mktemp("e2e")
    project, agents, state, logs = root / "project", root / "agents", root / "state", root / "logs"
    for d in (project, state, logs):
        d.mkdir()
    for source in agent_sources:
        shutil.copytree(source, agents, dirs_exist_ok=True)
    shutil.copyfile(HERE / "project" / "Pulumi.yaml", project / "Pulumi.yaml")
    stack_file = _fill(
        (HERE / "project" / "Pulumi.e2e.yaml.in").read_text(),
        {
            "KUBECONFIG": str(plane.kubeconfig),
            "HIGRESS_CHART": str(HIGRESS_CHART),
            "KEDA_CHART": str(KEDA_CHART),
            "AGENTS_DIR": str(agents),
            "NACOS_ADDR": f"http://{nacos.server_addr}",
        },
    )
    (project / f"Pulumi.{STACK}.yaml").write_text(stack_file + extra_config)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-only-passphrase",
    }
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    return E2EStack(project, agents, state, env, plane, nacos, logs)


@pytest.fixture(scope="module")
def e2e(engine, plane, registry_nacos, tmp_path_factory) -> E2EStack:
    """A fresh project dir and state for one test module; secrets generated and stored as Pulumi secrets."""
    stack = make_stack(tmp_path_factory, plane, registry_nacos, [REPO / "tests" / "fixtures" / "agents"])
    _store_secrets(stack, registry_nacos.password)
    return stack


# the Secrets the fixture agents read, supplied by the stack: tenant -> Secret -> key -> value
AGENT_SECRETS = {
    "retail": {
        "model-credentials": {"openai-api-key": "sk-e2e-retail-openai", "anthropic-api-key": "sk-e2e-retail-anthropic"},
        "memory-credentials": {"pinecone-api-key": "pc-e2e-retail"},
        "product-catalog-mcp": {"token": "e2e-catalog-token"},
    },
    "research": {
        "model-credentials": {"openai-api-key": "sk-e2e-research-openai"},
        "research-prompts": {"system-prompt": "e2e research prompt"},
        "web-search-mcp": {"api-key": "e2e-search-key"},
    },
}


def _store_secrets(stack: E2EStack, registry_password: str, supplied: Optional[dict[str, str]] = None) -> None:
    """The generated platform secrets (init-secrets creates the stack), then the `supplied` ones in their place,
    the registry password and the agents' Secrets, with `pulumi config set --secret`."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "stack.py"), "init-secrets", "--stack", STACK, "--project-dir", str(stack.project_dir)],
        env=stack.env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    for key, value in (supplied or {}).items():
        stack.run_cli("config", "set", "--secret", f"{PROJECT}:{key}", input=value)
    stack.run_cli("config", "set", "--secret", f"{PROJECT}:registryPassword", input=registry_password)
    for tenant, secrets in AGENT_SECRETS.items():
        for name, data in secrets.items():
            for key, value in data.items():
                # as the README tells users: the value on stdin, never on the command line
                proc = subprocess.run(
                    [sys.executable, str(SCRIPTS / "stack.py"), "set-secret", "--stack", STACK, "--project-dir", str(stack.project_dir),
                     f"agentSecrets.{tenant}.{name}.{key}"],
                    env=stack.env, input=value, capture_output=True, text=True,
                )
                assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- the message queue


@pytest.fixture(scope="module")
def queue_broker(tmp_path_factory):
    """A real RocketMQ 5.3.3 (name server, broker, gRPC proxy; ACL 2.0 on) on loopback ports.

    It stands in for the cluster's queue: the local plane runs no containers, so the queue
    provider administers this broker, as it would the in-cluster one through `messageQueue.admin`.
    The fault test stops and restarts it on the same ports and data."""
    import rocketmq_server as mq_mod

    try:
        build = mq_mod.build()
    except mq_mod.RocketMQBuildError as exc:
        pytest.fail(f"could not resolve RocketMQ from Maven Central:\n{exc}", pytrace=False)
    server = mq_mod.RocketMQServer(data_dir=tmp_path_factory.mktemp("e2e-rocketmq"))
    try:
        server.start(build)
    except mq_mod.RocketMQStartError as exc:
        pytest.fail(f"real RocketMQ did not start:\n{exc}", pytrace=False)
    server.build = build
    try:
        yield server
    finally:
        server.stop()


def queue_config(broker) -> str:
    """The stack-file lines that turn the queue on and point its provider at `broker`."""
    return f"""  agent-runtime:messageQueue:
    enabled: true
    cluster: {broker.cluster}
    admin:
      namesrvAddr: "{broker.namesrv_addr}"
      cluster: {broker.cluster}
"""


@pytest.fixture(scope="module")
def queue_e2e(engine, plane, registry_nacos, queue_broker, tmp_path_factory) -> E2EStack:
    """The e2e stack with the queue on and the async fixture agents (tests/fixtures/async-agents) besides the others."""
    stack = make_stack(
        tmp_path_factory, plane, registry_nacos,
        [REPO / "tests" / "fixtures" / "agents", REPO / "tests" / "fixtures" / "async-agents"],
        queue_config(queue_broker),
    )
    # the broker's admin password is the cluster's; the credential seed is generated by init-secrets
    _store_secrets(stack, registry_nacos.password, {"messageQueueAdminPassword": queue_broker.admin_password})
    stack.queue = queue_broker
    return stack
