#!/usr/bin/env python3
"""Benchmark the real engine: preview/up with N generated agents, registry throughput, set-up costs.

    venv/bin/python scripts/bench_engine.py [--agents 10 100] [--cards 100] [--no-registry]

1. Set-up: the warm paths of scripts/setup-pulumi.sh and scripts/local_plane.py build, a
   fresh plane start, and the cold build steps this machine recorded when it last built them.
2. For each N: a fresh project and state on a fresh local plane, N generated agents (one
   tenant, HPA, one A2A skill) plus the platform; `preview`, `up`, a second `preview`
   (0 changes), `destroy`, each through scripts/stack.py as a user runs it. CPU time is
   sampled per process every 0.25 s and split into: our program (the stack.py process:
   program + Automation API), the engine (pulumi CLI), the Kubernetes provider, the policy
   pack and the dynamic-provider host.
3. Registry: N AgentCards created and deleted through the engine (an inline program of
   AgentCard resources, Automation API) versus raw HTTP calls, against the same real Nacos.
Numbers go to stdout as a table; nothing is asserted (this is not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import local_plane  # noqa: E402
import nacos_server as ns  # noqa: E402
import stack as runner  # noqa: E402

TEMPLATE = REPO / "tests" / "e2e" / "project" / "Pulumi.e2e.yaml.in"
VENDOR = REPO.parent / "shared" / "vendor"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- process CPU sampling


def _proc(pid: int) -> tuple[int, float, str] | None:
    """(parent pid, CPU seconds, what it is) of a live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK, cmd


def _category(cmd: str, root: bool) -> str:
    if root:
        return "program + Automation API (python)"
    exe = Path(cmd.split(" ", 1)[0]).name
    if exe == "pulumi":
        return "engine (pulumi CLI)"
    if exe == "pulumi-resource-kubernetes":
        return "Kubernetes provider"
    if "pulumi.dynamic" in cmd:
        return "dynamic-provider host (registry)"
    if "__main__.py" in cmd or "analyzer" in cmd:
        return "policy pack"
    return f"other ({exe})"


class TreeSampler:
    """Peak CPU seconds of every process under `root` (sampled; the last < 0.25 s of a process is missed)."""

    def __init__(self, root: int):
        self.root = root
        self.seen: dict[int, tuple[float, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def sample(self) -> None:
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (info := _proc(int(entry))):
                table[int(entry)] = info
        tree, frontier = {self.root}, [self.root]
        children = defaultdict(list)
        for pid, (ppid, _, _) in table.items():
            children[ppid].append(pid)
        while frontier:
            for child in children[frontier.pop()]:
                tree.add(child)
                frontier.append(child)
        for pid in tree:
            if pid in table:
                _, cpu, cmd = table[pid]
                previous_cpu, category = self.seen.get(pid, (0.0, ""))
                # an exiting process has an empty command line: keep what it was seen as while it ran
                if not category or (cmd.strip() and category.startswith("other")):
                    category = _category(cmd, pid == self.root)
                self.seen[pid] = (max(cpu, previous_cpu), category)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        totals: dict[str, float] = defaultdict(float)
        for cpu, category in self.seen.values():
            totals[category] += cpu
        return dict(totals)


def timed_run(cmd: list[str], env: dict, log: Path) -> tuple[float, dict[str, float], int]:
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        code = proc.wait()
    return time.perf_counter() - started, sampler.stop(), code


# --------------------------------------------------------------------------- set-up costs


def setup_costs(cache: Path) -> list[tuple[str, str]]:
    rows = []
    for label, cmd in (
        ("setup-pulumi.sh (warm)", ["bash", str(REPO / "scripts" / "setup-pulumi.sh"), "-q"]),
        ("local_plane.py build (warm)", [sys.executable, str(REPO / "scripts" / "local_plane.py"), "build"]),
    ):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        rows.append((label, f"{time.perf_counter() - t0:.2f} s"))
    pins = runner.engine_pins()
    # what the last build of each step took (cold or warm: see docs/real-engine.md for the cold figures)
    for seconds in sorted((cache / "pulumi" / pins["PULUMI_CLI_VERSION"] / "logs").glob("*.seconds")):
        rows.append((f"engine step {seconds.stem}, last build", f"{seconds.read_text().strip()} s"))
    for seconds in sorted((cache / "local-plane" / "build-logs").glob("*.seconds")):
        rows.append((f"plane step {seconds.stem}, last build", f"{seconds.read_text().strip()} s"))
    return rows


# --------------------------------------------------------------------------- N agents through the engine


def agent_spec(i: int) -> dict:
    return {
        "name": f"bench-agent-{i:03d}",
        "tenant": "retail",
        "version": "1.0.0",
        "description": f"Generated benchmark agent {i}.",
        "systemPrompt": {"inline": f"You are benchmark agent {i}."},
        "model": {"provider": "openai", "model": "gpt-4.1-mini", "apiKey": {"secretKeyRef": {"name": "model-credentials", "key": "openai-api-key"}}},
        "a2aSkills": [{"id": "answer-v1", "name": "Answer", "description": "Answer a question."}],
        "autoscaling": {"minReplicas": 1, "maxReplicas": 3, "targetCpuUtilization": 70},
        # small enough that 100 agents fit one premium tenant's quota (32 CPU requested, 64 limited)
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
    }


def project(root: Path, plane: local_plane.LocalPlane, agents: int) -> tuple[Path, dict]:
    project_dir, agents_dir, state = root / "project", root / "agents", root / "state"
    for d in (project_dir, agents_dir, state):
        d.mkdir(parents=True)
    for i in range(agents):
        (agents_dir / f"bench-agent-{i:03d}.yaml").write_text(yaml.safe_dump(agent_spec(i), sort_keys=False))
    text = TEMPLATE.read_text()
    for key, value in {
        "KUBECONFIG": str(plane.kubeconfig), "HIGRESS_CHART": str(VENDOR / "higress-2.2.1" / "higress-core"),
        "KEDA_CHART": str(VENDOR / "keda-2.20.2" / "keda"), "AGENTS_DIR": str(agents_dir), "NACOS_ADDR": "http://127.0.0.1:1",
    }.items():
        text = text.replace(f"@{key}@", value)
    config = yaml.safe_load(text)
    config["config"]["agent-runtime:registry"] = {"enabled": False}  # the registry is measured on its own below
    config["config"]["agent-runtime:sandboxProfiles"] = []
    # one tenant holds every generated agent: give it the quota for 100 of them
    config["config"]["agent-runtime:tenants"] = [{"name": "retail", "tier": "premium"}, {"name": "research", "tier": "free"}]
    (project_dir / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copyfile(REPO / "Pulumi.yaml", project_dir / "Pulumi.yaml")
    env = {**os.environ, "PULUMI_BACKEND_URL": f"file://{state}", "PULUMI_CONFIG_PASSPHRASE": "bench"}
    env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    subprocess.run([sys.executable, str(REPO / "scripts" / "stack.py"), "init-secrets", "--stack", "bench", "--project-dir", str(project_dir)], env=env, check=True, capture_output=True)
    return project_dir, env


def bench_agents(counts: list[int], logs: Path) -> list[dict]:
    results = []
    for n in counts:
        with tempfile.TemporaryDirectory(prefix=f"bench-{n}-") as tmp:
            root = Path(tmp)
            plane = local_plane.LocalPlane(root / "plane", apiserver_port=local_plane.free_port())
            t0 = time.perf_counter()
            plane.start(fresh=True)
            start_seconds = time.perf_counter() - t0
            try:
                project_dir, env = project(root, plane, n)
                base = [sys.executable, str(REPO / "scripts" / "stack.py")]
                for op, extra in (("preview", []), ("up", ["--yes", "--skip-preview"]), ("preview ", ["--expect-no-changes"]), ("destroy", ["--yes"])):
                    events = logs / f"{n}-{op.strip()}.events.jsonl"
                    cmd = [*base, op.strip(), "--stack", "bench", "--project-dir", str(project_dir), "--events", str(events), *extra]
                    wall, cpu, code = timed_run(cmd, env, logs / f"{n}-{op.strip()}{'-again' if op.endswith(' ') else ''}.log")
                    summary = next((json.loads(line)["summary"] for line in reversed(events.read_text().splitlines()) if '"summary"' in line), {}) if events.exists() else {}
                    results.append({"agents": n, "op": op.strip() + (" (again)" if op.endswith(" ") else ""), "wall": wall, "cpu": cpu, "exit": code, "summary": summary, "plane_start": start_seconds})
                    print(f"  {n:4d} agents  {results[-1]['op']:16s} {wall:7.1f} s  exit {code}  {summary}", file=sys.stderr, flush=True)
            finally:
                plane.stop()
    return results


# --------------------------------------------------------------------------- registry through the engine vs raw HTTP


def card(name: str) -> dict:
    return {
        "protocolVersion": "0.3.0", "name": name, "description": "benchmark agent", "version": "1.0.0",
        "url": f"https://gateway.example.com/api/v1/internal/a2a/{name}", "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": True}, "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "chat-v1", "name": "chat", "description": "chat", "tags": ["chat"]}],
    }


def bench_registry(cards: int) -> list[tuple[str, float]]:
    from pulumi import automation as auto

    from nacos_registry import AgentCard, NacosNamespace

    build = ns.build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        root = Path(tmp)
        server = ns.NacosServer(data_dir=root / "nacos").start(build)
        try:
            server.request("POST", "/v3/admin/core/namespace", {"namespaceId": "raw", "namespaceName": "raw", "namespaceDesc": ""})
            t0 = time.perf_counter()
            for i in range(cards):
                status, body = server.request("POST", "/v3/admin/ai/a2a", {"namespaceId": "raw", "agentCard": json.dumps(card(f"raw-{i}")), "registrationType": "URL"})
                assert status == 200, body
            rows.append((f"raw HTTP: create {cards} cards", time.perf_counter() - t0))
            t0 = time.perf_counter()
            for i in range(cards):
                server.request("DELETE", "/v3/admin/ai/a2a", {"namespaceId": "raw", "agentName": f"raw-{i}"})
            rows.append((f"raw HTTP: delete {cards} cards", time.perf_counter() - t0))

            def program() -> None:
                namespace = NacosNamespace("bench-ns", namespace_id="engine", namespace_name="engine")
                import pulumi

                for i in range(cards):
                    AgentCard(f"card-{i}", namespace_id="engine", card=card(f"engine-{i}"), opts=pulumi.ResourceOptions(depends_on=[namespace]))

            engine = runner.find_engine()
            env = {**runner.engine_environment(engine), "PULUMI_BACKEND_URL": f"file://{root / 'state'}", "PULUMI_CONFIG_PASSPHRASE": "bench"}
            env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
            (root / "state").mkdir()
            os.environ.update(env)
            work = root / "project"
            work.mkdir()
            (work / "Pulumi.yaml").write_text("name: registry-bench\nruntime: python\n")
            stack = auto.create_or_select_stack(
                stack_name="bench", project_name="registry-bench", program=program,
                opts=auto.LocalWorkspaceOptions(work_dir=str(work), env_vars=env, pulumi_home=env.get("PULUMI_HOME"),
                                                pulumi_command=auto.PulumiCommand(root=str(engine.cli.parent.parent))),
            )
            stack.set_config("agent-runtime:registry", auto.ConfigValue(json.dumps({"enabled": True, "serverAddr": f"http://{server.server_addr}", "username": server.username})))
            stack.set_config("agent-runtime:registryPassword", auto.ConfigValue(server.password, secret=True))
            t0 = time.perf_counter()
            stack.up(on_output=lambda _: None)
            rows.append((f"engine: up creating {cards} cards", time.perf_counter() - t0))
            t0 = time.perf_counter()
            stack.destroy(on_output=lambda _: None)
            rows.append((f"engine: destroy of {cards} cards", time.perf_counter() - t0))
        finally:
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--cards", type=int, default=100)
    parser.add_argument("--no-registry", action="store_true")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-engine-logs-"))
    cache = runner.cache_root()

    print("## Set-up\n")
    for label, value in setup_costs(cache):
        print(f"| {label} | {value} |")
    print("\n## Stack operations (real engine, local plane)\n")
    print("| agents | operation | wall s | program s | engine s | k8s provider s | policy pack s | other s | changes |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in bench_agents(args.agents, logs):
        cpu = r["cpu"]
        known = ("program + Automation API (python)", "engine (pulumi CLI)", "Kubernetes provider", "policy pack")
        other = sum(v for k, v in cpu.items() if k not in known)
        cells = " | ".join(f"{cpu.get(k, 0.0):.1f}" for k in known)
        print(f"| {r['agents']} | {r['op']} | {r['wall']:.1f} | {cells} | {other:.1f} | {r['summary']} |")
    print(f"\n(plane start: {r['plane_start']:.1f} s; logs in {logs})")
    if not args.no_registry:
        print("\n## Registry: engine vs raw HTTP, same real Nacos\n")
        for label, seconds in bench_registry(args.cards):
            print(f"| {label} | {seconds:.1f} s | {seconds / args.cards * 1000:.0f} ms per card |")


if __name__ == "__main__":
    main()
