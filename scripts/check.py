#!/usr/bin/env python3
"""Check a stack without a cluster or an engine: specs, settings, schemas, the policy pack, a summary.

    venv/bin/python scripts/check.py --stack dev [--project-dir .] [--no-schemas]

For a team's own CI: it reads `Pulumi.<stack>.yaml` (encrypted values as stand-ins), validates
every agent and MCP spec the stack selects and every stack setting (file, line and field for
each problem), runs the program under Pulumi's mock monitor, checks every Kubernetes object
against the Kubernetes and CRD schemas (`scripts/fetch_schemas.sh` fetches them; skip with
`--no-schemas`), runs the whole policy pack with the stack's profile config, and prints per
agent its routes, scaling, sandbox, registry records and the objects it reads, then the
findings. Exit 0: nothing wrong; 1: something is (each listed); 2: the stack file is unusable.
Charts are not expanded and nothing is published: this is not a `pulumi preview`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pulumi  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402

from models.agent_spec import references  # noqa: E402
from models.settings import PROJECT, parse_stack_config  # noqa: E402
from models.stack_agents import load_stack_agents  # noqa: E402
from offline.policy import config_file, from_registered, run_direct  # noqa: E402
from offline.stack import StackFileError, run_stack  # noqa: E402
from render.agent.live_config import data_id  # noqa: E402

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject"
AGENT_LABEL = "agent-runtime.io/agent"


def _stack_objects(settings, project_dir: Path):
    """The stack config and the agent catalog the program itself would build (both already validated by the run)."""
    raw = {k.split(":", 1)[1]: (json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v)
           for k, v in settings.config.items() if k.startswith(f"{PROJECT}:")}
    stack, secrets = parse_stack_config(raw, {k.split(":", 1)[1] for k in settings.secret_keys})
    return stack, secrets, load_stack_agents(stack, project_dir, secrets)


def _scaling(run, agent: str) -> str:
    for r in run.of_type(HPA):
        if (r.inputs.get("metadata", {}).get("labels") or {}).get(AGENT_LABEL) == agent:
            spec = r.inputs["spec"]
            return f"HPA {int(spec['minReplicas'])}-{int(spec['maxReplicas'])}"
    for r in run.of_type(SCALED):
        if (r.inputs.get("metadata", {}).get("labels") or {}).get(AGENT_LABEL) == agent:
            spec = r.inputs["spec"]
            return f"KEDA {int(spec['minReplicaCount'])}-{int(spec['maxReplicaCount'])} (scales to zero)"
    return "fixed replicas"


def _reads(spec, catalog, stack, secrets) -> list[tuple[str, str, str]]:
    """(kind, name, who provides it) of every Secret and ConfigMap the agent's pods read, MCP credentials included."""
    supplied = {
        "Secret": set(secrets.agent_secret_data().get(spec.tenant, {})),
        "ConfigMap": set(stack.agents.config_maps.get(spec.tenant, {})),
    }
    refs = {(r.kind, r.name) for r in references(spec)}
    for server in catalog.mcp_for(spec):
        if server is not None and server.auth is not None:
            refs.add(("Secret", server.auth.secret_key_ref.name))
    return sorted((kind, name, "supplied by the stack" if name in supplied[kind] else "created elsewhere") for kind, name in refs)


def _schema_problems(run) -> list[str]:
    from testing.k8s_schema import SchemaUnavailableError, pulumi_resource_to_object, validate_object

    problems = []
    try:
        for r in run.resources:
            obj = pulumi_resource_to_object(r.typ, r.name, r.inputs)
            if obj is not None:
                problems += validate_object(obj)
    except SchemaUnavailableError as exc:
        return [f"schemas: {exc} (fetch them with `bash scripts/fetch_schemas.sh`, or pass --no-schemas)"]
    return problems


def report(stack_name: str, project_dir: Path, schemas: bool = True, out=sys.stdout) -> int:
    cwd = os.getcwd()
    os.chdir(project_dir)  # file names in the report read as the engine and the program see them
    try:
        return _report(stack_name, project_dir, schemas, out)
    finally:
        os.chdir(cwd)


def _report(stack_name: str, project_dir: Path, schemas: bool, out) -> int:
    try:
        run, settings = run_stack(stack_name, project_dir)
    except StackFileError as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    except pulumi.RunError as exc:  # ConfigError, AgentSpecError: their message is the report
        print(f"stack {stack_name}: {exc}", file=out)
        return 1
    stack, secrets, catalog = _stack_objects(settings, project_dir)
    routes = defaultdict(list)
    for route in run.outputs.get("agentRoutes", []):
        routes[route["agent"]].append(route)
    records = run.of_type("pulumi-python:dynamic:Resource")
    registry = {r.inputs.get("agentName"): r.inputs.get("version") for r in records if r.inputs.get("registryKind") == "AgentCard"}
    live_items = {r.inputs["dataId"]: r.inputs for r in records if r.inputs.get("registryKind") == "ConfigItem"}

    print(f"stack {stack_name} (environment {stack.environment}, profile {stack.hardening}): "
          f"{len(catalog.agents)} agent(s), {len(catalog.mcp_servers)} MCP server(s), {len(run.resources)} resources", file=out)
    for spec in catalog.agents:
        print(f"\nagent {spec.name}  ({catalog.sources.get(spec.name)}; tenant {spec.tenant}; version {spec.version})", file=out)
        for route in routes[spec.name]:
            who = ""
            if route["kind"] == "a2a":
                callers = [*route["allowed_caller_agents"], *(f"tenant {t}" for t in route["allowed_caller_tenants"])]
                who = f"; callers: {', '.join(callers) or 'none'}"
            canary = " (canary)" if route["canary"] else ""
            print(f"  route    POST {route['path']}  {route['kind']}{canary} -> {route['name']} v{route['version']}{who}", file=out)
        print(f"  scaling  {_scaling(run, spec.name)}", file=out)
        print(f"  sandbox  {spec.sandbox.profile + ' (' + ', '.join(spec.sandbox.tools) + ')' if spec.sandbox else 'none'}", file=out)
        record = f"AgentCard {spec.name} {registry[spec.name]} in Nacos namespace {stack.tenant(spec.tenant).nacos_namespace}" if spec.name in registry else "none (registry off in this stack)"
        print(f"  registry {record}", file=out)
        items = sorted(f"{i['namespaceId']}/{i['group']}/{i['dataId']}" for v in spec.versions() if (i := live_items.get(data_id(spec, v))))
        behaviour = f"live from Nacos: {', '.join(items)}" if items else "in each version's ConfigMap (changes roll the pods)"
        print(f"  config   {behaviour}", file=out)
        for kind, name, how in _reads(spec, catalog, stack, secrets):
            print(f"  reads    {kind} {name} ({how})", file=out)

    findings = run_direct(from_registered(run.resources), given=config_file(stack.hardening))
    mandatory = [f for f in findings if f.level == EnforcementLevel.MANDATORY]
    advisory = [f for f in findings if f.level == EnforcementLevel.ADVISORY]
    schema = _schema_problems(run) if schemas else []
    print(f"\npolicy pack (policies/config.{stack.hardening}.json): {len(mandatory)} mandatory violation(s), {len(advisory)} advisory", file=out)
    for f in [*mandatory, *advisory]:
        print(f"  [{f.level.value}] {f.policy}: {f.message}", file=out)
    print(f"schemas: {'not checked (--no-schemas)' if not schemas else f'{len(schema)} problem(s)'}", file=out)
    for problem in schema:
        print(f"  {problem}", file=out)
    for key in settings.generated_later:
        print(f"note: {key} is not set yet; `venv/bin/python scripts/stack.py init-secrets --stack {stack_name}` generates it before the first up", file=out)
    for key in settings.opaque_secrets:
        print(f"note: {key} is encrypted as one value; the Secrets it supplies could not be seen (set it with --path)", file=out)
    print("\nnot checked here: chart contents (expanded only by the engine), the cluster, Nacos", file=out)
    return 1 if mandatory or schema else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--project-dir", type=Path, default=REPO)
    parser.add_argument("--no-schemas", action="store_true", help="skip the Kubernetes/CRD schema check")
    args = parser.parse_args(argv)
    return report(args.stack, args.project_dir.resolve(), schemas=not args.no_schemas)


if __name__ == "__main__":
    sys.exit(main())
