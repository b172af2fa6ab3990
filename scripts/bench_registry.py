#!/usr/bin/env python3
"""Benchmark: register N AgentCards through our dynamic provider vs raw HTTP calls, same real Nacos.

    venv/bin/python scripts/bench_registry.py [--cards 100]

Starts a real Nacos 3.1 on loopback (scripts/nacos_server.py), then
1. raw:      one login, then N `POST /nacos/v3/admin/ai/a2a` form calls;
2. provider: N Create calls through Pulumi's dynamic-provider host over gRPC,
             exactly as the engine drives it (each Create logs in, checks for an
             existing record, publishes);
and prints wall time and per-card latency for each. Deletes everything it made.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts"), str(REPO / "tests" / "registry")]

import nacos_server as ns  # noqa: E402
from dynamic_host import DynamicProviderHost  # noqa: E402
from nacos_registry.provider import AgentCardProvider  # noqa: E402


def card(name: str) -> dict:
    return {
        "protocolVersion": "0.3.0",
        "name": name,
        "description": "benchmark agent",
        "version": "1.0.0",
        "url": f"https://gateway.example.com/api/v1/internal/a2a/{name}",
        "preferredTransport": "JSONRPC",
        "capabilities": {"streaming": True},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": [{"id": "chat-v1", "name": "chat", "description": "chat", "tags": ["chat"]}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=100)
    args = parser.parse_args()

    build = ns.build()
    with tempfile.TemporaryDirectory() as tmp:
        server = ns.NacosServer(data_dir=Path(tmp))
        server.start(build)
        try:
            results = {}
            server.request("POST", "/v3/admin/core/namespace", {"namespaceId": "bench", "namespaceName": "bench", "namespaceDesc": ""})

            latencies = []
            started = time.perf_counter()
            for i in range(args.cards):
                t0 = time.perf_counter()
                status, body = server.request(
                    "POST", "/v3/admin/ai/a2a",
                    {"namespaceId": "bench", "agentCard": json.dumps(card(f"raw-{i}")), "registrationType": "URL"},
                )
                assert status == 200, body
                latencies.append(time.perf_counter() - t0)
            results["raw HTTP"] = (time.perf_counter() - started, latencies)

            config = {
                "agent-runtime:registry": json.dumps({"enabled": True, "serverAddr": f"http://{server.server_addr}", "username": server.username}),
                "agent-runtime:registryPassword": server.password,
            }
            with DynamicProviderHost(config) as host:
                provider = AgentCardProvider()
                latencies = []
                created = []
                started = time.perf_counter()
                for i in range(args.cards):
                    c = card(f"prov-{i}")
                    props = host.props(provider, {"registryKind": "AgentCard", "namespaceId": "bench", "agentName": c["name"],
                                                  "version": "1.0.0", "registrationType": "URL", "card": c})
                    t0 = time.perf_counter()
                    host.check(c["name"], {}, props)
                    id_, outs = host.create(c["name"], props)
                    latencies.append(time.perf_counter() - t0)
                    created.append((c["name"], id_, outs))
                results["provider (check+create via gRPC host)"] = (time.perf_counter() - started, latencies)
                for name, id_, outs in created:
                    host.delete(name, id_, outs)
            for i in range(args.cards):
                server.request("DELETE", "/v3/admin/ai/a2a", {"namespaceId": "bench", "agentName": f"raw-{i}"})
        finally:
            server.stop()

    print(f"{args.cards} AgentCards against a real Nacos 3.1 on 127.0.0.1")
    for label, (total, lat) in results.items():
        lat_ms = sorted(x * 1000 for x in lat)
        p95 = lat_ms[int(len(lat_ms) * 0.95) - 1]
        print(f"  {label:40s} total {total:6.2f} s   per card median {statistics.median(lat_ms):6.1f} ms   p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
