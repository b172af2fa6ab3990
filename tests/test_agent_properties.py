"""Property-based: generated valid specs load and render; broken ones are rejected cleanly."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml
from a2a.types import AgentCard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.agent_spec import AgentSpecError, load_agent_specs, references
from models.settings import AgentsSettings
from render.agent.card import build_agent_card
from render.agent.routes import route_plans as _route_plans
from harness import run_program

TENANTS = ["retail", "research"]
PROBLEM_LINE = re.compile(r"^agents/[\w.-]+\.ya?ml:\d+ \S+: .+")
GATEWAY = "http://higress-gateway.higress-system.svc.cluster.local"

names = st.from_regex(r"[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=40).filter(lambda s: s.strip())
versions = st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 20)).map(lambda t: "%d.%d.%d" % t)
secret_ref = st.fixed_dictionaries({"secretKeyRef": st.fixed_dictionaries({"name": names, "key": names})})


@st.composite
def models(draw):
    return {
        "provider": draw(st.sampled_from(["openai", "anthropic", "gemini", "deepseek", "dashscope"])),
        "model": draw(names),
        "apiKey": draw(secret_ref),
        "temperature": draw(st.floats(0, 2, allow_nan=False)),
        "maxTokens": draw(st.integers(1, 200_000)),
        "topP": draw(st.floats(0.01, 1, allow_nan=False)),
        "timeoutSeconds": draw(st.integers(1, 3600)),
    }


@st.composite
def autoscalings(draw):
    if draw(st.booleans()):
        return {"scaleToZero": True, "maxReplicas": draw(st.integers(1, 20)), "cooldownSeconds": draw(st.integers(0, 3600))}
    low = draw(st.integers(1, 10))
    return {"minReplicas": low, "maxReplicas": draw(st.integers(low, 30)), "targetCpuUtilization": draw(st.integers(1, 100))}


@st.composite
def specs(draw):
    name = draw(names)
    version = draw(versions)
    skill_ids = draw(st.lists(names, max_size=3, unique=True))
    spec = {
        "name": name,
        "tenant": draw(st.sampled_from(TENANTS)),
        "version": version,
        "description": draw(words),
        "systemPrompt": {"inline": draw(words)},
        "model": draw(models()),
        "a2aSkills": [{"id": s, "name": s, "description": draw(words)} for s in skill_ids],
        "autoscaling": draw(autoscalings()),
    }
    if draw(st.booleans()):
        others = draw(st.lists(versions.filter(lambda v: v != version), max_size=2, unique=True))
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(others), max_size=len(others))))
        bounds = [0, *cuts, 100]
        weights = [b - a for a, b in zip(bounds, bounds[1:])]
        entries = [{"version": v, "weight": w} for v, w in zip([version, *others], weights)]
        for entry in entries[1:]:
            if draw(st.booleans()):
                entry["match"] = {"header": {"name": "x-canary", "value": entry["version"]}}
        spec["rollout"] = {"versions": entries}
    return spec


def _load(spec: dict, file_name: str | None = None, **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        agents = Path(tmp) / "agents"
        agents.mkdir()
        (agents / f"{file_name or spec['name']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            return load_agent_specs("agents", tenants=TENANTS, sandbox_profiles=[], **kwargs)
        finally:
            os.chdir(cwd)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_valid_specs_load_and_plan_consistent_routes_and_cards(spec):
    catalog = _load(spec)
    agent = catalog.agent(spec["name"])
    skill_callers = {s.id: [("caller", "tenant-y")] for s in agent.a2a_skills}
    card = build_agent_card(agent, GATEWAY, skill_callers)
    AgentCard.model_validate(card)
    assert [s["id"] for s in card["skills"]] == [s["id"] for s in spec["a2aSkills"]]
    plans = _route_plans(agent, "tenant-x", AgentsSettings(), skill_callers)
    # the card names only routes the gateway has
    a2a_paths = {p.route.path for p in plans if p.route.kind == "a2a"}
    if a2a_paths:
        assert card["url"].removeprefix(GATEWAY) in a2a_paths
        assert {i["url"].removeprefix(GATEWAY) for i in card["additionalInterfaces"]} == a2a_paths
    names = [p.route.name for p in plans]
    assert len(names) == len(set(names))
    primaries = [p for p in plans if not p.route.canary]
    assert {p.route.kind for p in primaries} == ({"public", "a2a"} if spec["a2aSkills"] else {"public"})
    versions = agent.versions()
    assert sum(v.weight for v in versions) == 100 and sum(v.primary for v in versions) == 1
    for p in plans:
        weight = p.annotations.get("higress.io/canary-weight")
        assert weight is None or 0 < int(weight) <= 100
        assert len(p.service) <= 63


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_valid_specs_render_through_the_whole_program(spec):
    with tempfile.TemporaryDirectory() as tmp:
        agents = Path(tmp) / "agents"
        agents.mkdir()
        (agents / f"{spec['name']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        run = run_program("dev", overrides={"agents": {"directory": str(agents), "keda": {"enabled": True}, **_external_objects(agents)}})
    deployments = [r for r in run.of_type("kubernetes:apps/v1:Deployment") if r.k8s_name.startswith(spec["name"] + "-v")]
    expected = len(spec.get("rollout", {}).get("versions", [])) or 1
    assert len(deployments) == expected
    scalers = "kubernetes:keda.sh/v1alpha1:ScaledObject" if spec["autoscaling"].get("scaleToZero") else "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
    assert len([r for r in run.of_type(scalers) if r.k8s_name.startswith(spec["name"] + "-v")]) == expected


def _external_objects(agents: Path) -> dict:
    """The generated spec's Secrets and ConfigMaps, declared as created outside the stack."""
    catalog = load_agent_specs(agents, tenants=TENANTS, sandbox_profiles=[])
    refs = [(a.tenant, r) for a in catalog.agents for r in references(a)]
    return {
        "externalSecrets": sorted({f"{tenant}/{r.name}" for tenant, r in refs if r.kind == "Secret"}),
        "externalConfigMaps": sorted({f"{tenant}/{r.name}" for tenant, r in refs if r.kind == "ConfigMap"}),
    }


MUTATIONS = {
    "model.temperature": lambda s, d: s["model"].__setitem__("temperature", d(st.floats(2.001, 1e6, allow_nan=False))),
    "model.topP": lambda s, d: s["model"].__setitem__("topP", d(st.floats(1.001, 50, allow_nan=False))),
    "model.apiKey": lambda s, d: s["model"].__setitem__("apiKey", d(st.text(min_size=1, max_size=30))),
    "tenant": lambda s, d: s.__setitem__("tenant", d(names.filter(lambda n: n not in TENANTS))),
    "autoscaling.maxReplicas": lambda s, d: s["autoscaling"].__setitem__("maxReplicas", d(st.integers(-5, 0))),
    "version": lambda s, d: s.__setitem__("version", d(words)),
    "unknown field": lambda s, d: s.__setitem__(d(names.filter(lambda n: n not in s)) + "Zz", 1),
    "name": lambda s, d: s.__setitem__("name", d(st.from_regex(r"[A-Z_][A-Za-z_]{0,8}", fullmatch=True))),
}


@settings(max_examples=80, deadline=None)
@given(specs(), st.sampled_from(sorted(MUTATIONS)), st.data())
def test_broken_specs_are_rejected_with_located_errors(spec, mutation, data):
    file_name = spec["name"]
    MUTATIONS[mutation](spec, data.draw)
    try:
        _load(spec, file_name)
    except AgentSpecError as exc:
        assert exc.problems
        assert all(PROBLEM_LINE.match(p) for p in exc.problems), exc.problems
        assert any(mutation in p for p in exc.problems), exc.problems
    else:
        raise AssertionError(f"mutation {mutation} was accepted: {spec}")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "tenant", "version", "description", "model", "autoscaling", "rollout", "tools", "a2aCalls", "junk"]), yaml_values, max_size=8))
def test_arbitrary_yaml_never_crashes_the_loader(data):
    try:
        _load(data, "junk")
    except AgentSpecError as exc:
        assert all(PROBLEM_LINE.match(p) for p in exc.problems), exc.problems
