#!/usr/bin/env python3
"""Benchmark: program evaluation under mocks for N generated agents (not a test).

    ./venv/bin/python scripts/bench_agents.py               # 10, 100, 1000 agents, dev stack
    ./venv/bin/python scripts/bench_agents.py 10 100 --stack prod

Each N runs in a fresh Python process: it generates N agent specs (a realistic mix:
A2A calls, an MCP server, canaries, scale-to-zero, sandboxes) into a temporary
directory, points `agents.directory` at it and runs the real `__main__.py` through
tests/harness.run_program. It reports the wall time of spec loading + program
evaluation, its CPU time and the process's peak RSS. Target: linear growth, 1000 agents
< 30 s, < 2 GB.

The harness answers registrations whose mock outputs are their inputs by echoing the
wire form; `--stock-mocks` sends them through the SDK's own deserialize/serialize round
trip instead, as a reference point. Findings are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
TENANTS = ["retail", "research"]


def generate(directory: Path, count: int) -> None:
    """Write `count` agent specs and one MCP server into `directory`."""
    (directory / "mcp").mkdir(parents=True)
    (directory / "mcp" / "bench-tools.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "bench-tools",
                "url": "https://tools.example.com/mcp",
                "protocol": "streamable-http",
                "auth": {"secretKeyRef": {"name": "bench-mcp", "key": "token"}},
                "tools": ["lookup", "compute"],
            }
        )
    )
    for i in range(count):
        tenant = TENANTS[i % len(TENANTS)]
        name = f"bench-{i:05d}"
        spec: dict = {
            "name": name,
            "tenant": tenant,
            "version": "1.0.0",
            "description": f"Generated agent {i}",
            "systemPrompt": {"inline": f"You are generated agent number {i}."},
            "model": {
                "provider": "openai",
                "model": "gpt-4.1-mini",
                "apiKey": {"secretKeyRef": {"name": "model-credentials", "key": "openai-api-key"}},
                "temperature": 0.5,
            },
            "a2aSkills": [{"id": "work-v1", "name": "Work", "description": "Do the work."}],
            "tools": [{"mcpServer": "bench-tools", "toolNames": ["lookup"]}],
            "autoscaling": {"minReplicas": 1, "maxReplicas": 4},
        }
        if i >= len(TENANTS):  # call the previous agent of the same tenant
            spec["a2aCalls"] = [{"agent": f"bench-{i - len(TENANTS):05d}", "skill": "work-v1"}]
        if i % 5 == 4:
            spec["autoscaling"] = {"scaleToZero": True, "maxReplicas": 3}
        if i % 4 == 3:
            spec["rollout"] = {
                "versions": [
                    {"version": "1.0.0", "weight": 90},
                    {"version": "1.1.0", "weight": 10, "match": {"header": {"name": "x-canary", "value": "1.1.0"}}},
                ]
            }
        if tenant == "research" and i % 10 == 1:
            spec["sandbox"] = {"profile": "code-exec", "tools": ["python"]}
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def run_one(count: int, stack: str, stock_mocks: bool = False) -> dict:
    """In this process: generate, run the program, measure."""
    sys.path.insert(0, str(REPO / "tests"))
    sys.path.insert(0, str(REPO))
    from harness import run_program  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        agents = Path(tmp) / "agents"
        generate(agents, count)
        start, cpu_start = time.perf_counter(), time.process_time()
        run = run_program(
            stack,
            overrides={"agents": {"directory": str(agents), "keda": {"enabled": True}}},
            direct_echo=not stock_mocks,
        )
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    agent_resources = sum(1 for r in run.resources if r.name.startswith("agent-bench-"))
    return {
        "agents": count,
        "stack": stack,
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "registrations": len(run.resources),
        "agent_registrations": agent_resources,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("counts", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--stack", default="dev", choices=["dev", "prod"])
    parser.add_argument(
        "--stock-mocks", action="store_true",
        help="answer every registration through the SDK's own mock round trip (no direct echo)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.counts[0], args.stack, args.stock_mocks)))
        return 0
    results = []
    for count in args.counts:
        out = subprocess.run(
            [sys.executable, __file__, str(count), "--stack", args.stack, "--child"]
            + (["--stock-mocks"] if args.stock_mocks else []),
            capture_output=True, text=True, cwd=REPO,
        )
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return out.returncode
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'agents':>7} {'seconds':>8} {'cpu s':>8} {'s/agent':>8} {'peak RSS':>10} {'registrations':>14}")
    for r in results:
        print(
            f"{r['agents']:>7} {r['seconds']:>8.2f} {r['cpu_seconds']:>8.2f} {r['seconds'] / r['agents']:>8.4f} "
            f"{r['peak_rss_mib']:>7.1f} MiB {r['registrations']:>14}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
