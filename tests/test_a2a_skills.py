"""A2A per skill: who may call each skill (spec check, gateway routes and jwt-auth allow lists), its resilience,
and the agent-wide route the AgentCard names (only the callers of every skill).

Specs are written to a temporary agents/ directory (never the repo's agents/): a target agent
`vault` in tenant retail exposing skills, and one caller per case. The fixture stacks' own
conversation agent (tests/fixtures/agents) covers the resilience annotations the program renders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest
import yaml
from a2a.types import AgentCard

from models.agent_spec import AgentSpecError, load_agent_specs
from render.agent.card import build_agent_card
from render.agent.routes import (
    A2A_PATH,
    ANN_ALLOW_AGENTS,
    ANN_ALLOW_TENANTS,
    ANN_SENSITIVE,
    ANN_SKILLS,
    IngressPlan,
    route_descriptors,
    route_plans,
    skill_callers_of,
)
from render.gateway.routes import a2a_allowed_consumers, routes_from_descriptors
from models.settings import parse_stack_config
from harness import fixture_stack, FIXTURE_AGENTS, run_program, stack_file_config
from policy_cases import support as S

TENANTS = ["retail", "research"]
MODEL = {"provider": "openai", "model": "gpt-4.1", "apiKey": {"secretKeyRef": {"name": "model-credentials", "key": "openai-api-key"}}}


def _agent(name: str, tenant: str, **extra) -> dict:
    return {"name": name, "tenant": tenant, "version": "1.0.0", "description": "A test agent.",
            "systemPrompt": {"inline": "You are a test agent."}, "model": MODEL, **extra}


def _skill(skill_id: str, **extra) -> dict:
    return {"id": skill_id, "name": skill_id, "description": "A skill.", **extra}


def _load(tmp_path: Path, *specs: dict):
    agents = tmp_path / "agents"
    agents.mkdir()
    for spec in specs:
        (agents / f"{spec['name']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return load_agent_specs("agents", tenants=TENANTS)
    finally:
        os.chdir(cwd)


def _plans(catalog, agent: str) -> dict[str, IngressPlan]:
    spec = catalog.agent(agent)
    return {p.route.name: p for p in route_plans(spec, f"tenant-{spec.tenant}", None, skill_callers_of(spec, catalog))}


def _allow(catalog, route_name: str) -> list[str]:
    """The internal jwt-auth allow list the gateway security derives for one route."""
    descriptors = [r for spec in catalog.agents for r in (p.route for p in _plans(catalog, spec.name).values())]
    routes = routes_from_descriptors(descriptors, {t: "standard" for t in TENANTS})
    return a2a_allowed_consumers(next(r for r in routes if r.ingress_name == route_name), routes)


# ---------------------------------------------------------------- the permission matrix


@dataclass(frozen=True)
class Access:
    id: str
    caller_tenant: str
    agent_access: dict = field(default_factory=dict)  # the target's a2aAccess
    skill_access: Optional[dict] = None  # the skill's own access
    refused: Optional[str] = None  # "<field>: <text>" the caller's a2aCalls[0] gets, or None when allowed


MATRIX = [
    Access("same-tenant-default", "retail"),
    Access("cross-tenant-allowed-agent-wide", "research", agent_access={"allowTenants": ["research"]}),
    Access("cross-tenant-allowed-by-skill", "research", skill_access={"allowTenants": ["research"]}),
    Access("cross-tenant-allowed-by-name", "research", skill_access={"allowAgents": ["research/caller"]}),
    Access("cross-tenant-refused", "research",
           refused="agent: agent 'vault' is in tenant 'retail' and does not allow callers from 'research' to skill 'ledger' (its a2aAccess.allowTenants: []"),
    Access("skill-keeps-private-what-the-agent-allows", "research", agent_access={"allowTenants": ["research"]}, skill_access={},
           refused="skill: agent 'vault' is in tenant 'retail' and does not allow callers from 'research' to skill 'ledger' (its a2aSkills[0].access.allowTenants: []"),
    Access("sensitive-skill-names-caller", "retail", skill_access={"sensitive": True, "allowAgents": ["retail/caller"]}),
    Access("sensitive-skill-default-deny-same-tenant", "retail", skill_access={"sensitive": True, "allowAgents": ["retail/other"]},
           refused="skill: skill 'ledger' of agent 'vault' is sensitive: only the agents its a2aSkills[0].access.allowAgents names may call it (['retail/other']), not retail/caller"),
    Access("sensitive-agent-names-cross-tenant-caller", "research", agent_access={"sensitive": True, "allowAgents": ["research/caller"]}),
    Access("sensitive-agent-default-deny-same-tenant", "retail", agent_access={"sensitive": True},
           refused="agent: skill 'ledger' of agent 'vault' is sensitive: only the agents its a2aAccess.allowAgents names may call it ([]), not retail/caller"),
    Access("sensitive-agent-skill-rule-cannot-open-tenant", "retail", agent_access={"sensitive": True}, skill_access={"allowAgents": ["research/x"]},
           refused="skill: skill 'ledger' of agent 'vault' is sensitive: only the agents its a2aSkills[0].access.allowAgents names may call it (['research/x']), not retail/caller"),
]


@pytest.mark.parametrize("case", MATRIX, ids=[c.id for c in MATRIX])
def test_skill_permission_matrix(tmp_path: Path, case: Access):
    skill = _skill("ledger", **({"access": case.skill_access} if case.skill_access is not None else {}))
    target = _agent("vault", "retail", a2aSkills=[skill], **({"a2aAccess": case.agent_access} if case.agent_access else {}))
    caller = _agent("caller", case.caller_tenant, a2aCalls=[{"agent": "vault", "skill": "ledger"}])
    if case.refused:
        with pytest.raises(AgentSpecError) as err:
            _load(tmp_path, target, caller)
        # the caller's spec line, its field, and nothing deployed
        assert len(err.value.problems) == 1, err.value.problems
        assert err.value.problems[0].startswith(f"agents/caller.yaml:{_calls_line(case)} a2aCalls[0].{case.refused}"), err.value.problems
        assert "(nothing was deployed)" in str(err.value)
        return
    catalog = _load(tmp_path, target, caller)
    plans = _plans(catalog, "vault")
    route = plans["vault-a2a-ledger"]
    # one skill: its caller calls every skill, so the agent-wide route (the card's URL) admits it too
    assert set(plans) == {"vault-chat", "vault-a2a", "vault-a2a-ledger"}
    assert route.route.path == "/api/v1/internal/a2a/vault/ledger"
    assert route.route.allowed_caller_agents == (f"{case.caller_tenant}/caller",)
    assert _allow(catalog, "vault-a2a-ledger") == _allow(catalog, "vault-a2a") == [f"agent:{case.caller_tenant}/caller"]
    rule = case.skill_access if case.skill_access is not None else case.agent_access
    assert route.annotations[ANN_ALLOW_TENANTS] == ",".join(rule.get("allowTenants", []))
    assert route.annotations[ANN_ALLOW_AGENTS] == ",".join(rule.get("allowAgents", []))
    sensitive = bool(case.agent_access.get("sensitive") or rule.get("sensitive"))
    assert route.annotations[ANN_SENSITIVE] == str(sensitive).lower()


def _calls_line(case: Access) -> int:
    """Line of `a2aCalls[0].<field>` in the caller file _agent() writes (yaml.safe_dump, keys in order)."""
    text = yaml.safe_dump(_agent("caller", case.caller_tenant, a2aCalls=[{"agent": "vault", "skill": "ledger"}]), sort_keys=False)
    key = "- agent: vault" if case.refused.startswith("agent:") else "  skill: ledger"
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip() == key.strip())


def test_each_skill_gets_its_own_route_and_allow_list(tmp_path: Path):
    """One skill shared with research, one private to its tenant, one nobody calls (no route at all)."""
    target = _agent(
        "vault", "retail",
        a2aAccess={"allowTenants": ["research"]},
        a2aSkills=[_skill("balance.read"), _skill("transfer", access={}), _skill("audit")],
    )
    analyst = _agent("analyst", "research", a2aCalls=[{"agent": "vault", "skill": "balance.read"}])
    teller = _agent("teller", "retail", a2aCalls=[{"agent": "vault", "skill": "balance.read"}, {"agent": "vault", "skill": "transfer"}])
    catalog = _load(tmp_path, target, analyst, teller)
    plans = _plans(catalog, "vault")
    assert set(plans) == {"vault-chat", "vault-a2a-balance-read", "vault-a2a-transfer"}
    assert plans["vault-a2a-balance-read"].annotations["higress.io/rewrite-path"] == "/a2a/balance.read"
    assert _allow(catalog, "vault-a2a-balance-read") == ["agent:research/analyst", "agent:retail/teller"]
    assert _allow(catalog, "vault-a2a-transfer") == ["agent:retail/teller"]
    # nobody calls audit, so nobody may call every skill: no agent-wide route, and the card names a skill route
    card = _card(catalog, "vault")
    assert card["url"] == GATEWAY + "/api/v1/internal/a2a/vault/balance.read"
    assert [i["url"] for i in card["additionalInterfaces"]] == [
        GATEWAY + "/api/v1/internal/a2a/vault/balance.read", GATEWAY + "/api/v1/internal/a2a/vault/transfer"
    ]
    _assert_card_names_only_routes(catalog, "vault")


# ---------------------------------------------------------------- the agent-wide route and the AgentCard

GATEWAY = "http://higress-gateway.higress-system.svc.cluster.local"


def _card(catalog, agent: str) -> dict:
    spec = catalog.agent(agent)
    card = build_agent_card(spec, GATEWAY, skill_callers_of(spec, catalog))
    AgentCard.model_validate(card)  # what the registry provider and A2A clients read
    return card


def _assert_card_names_only_routes(catalog, agent: str) -> None:
    """The card's url and every interface it lists are paths of Ingresses the program makes."""
    card = _card(catalog, agent)
    paths = {p.route.path for p in _plans(catalog, agent).values() if p.route.kind == "a2a"}
    urls = [card["url"], *(i["url"] for i in card.get("additionalInterfaces", []))]
    assert all(u.startswith(GATEWAY) and u.removeprefix(GATEWAY) in paths for u in urls), (urls, paths)
    assert {u.removeprefix(GATEWAY) for u in urls} == paths
    assert all(i["transport"] == card["preferredTransport"] == "JSONRPC" for i in card.get("additionalInterfaces", []))


def _bank(tmp_path: Path, *callers: dict, **vault):
    """vault exposes balance.read (research may call it) and transfer (its own tenant only)."""
    target = _agent(
        "vault", "retail",
        a2aAccess={"allowTenants": ["research"]},
        a2aSkills=[_skill("balance.read", resilience={"timeoutSeconds": 90}), _skill("transfer", access={}, resilience={"timeoutSeconds": 30})],
        **vault,
    )
    return _load(tmp_path, target, *callers)


BOTH = [{"agent": "vault", "skill": "balance.read"}, {"agent": "vault", "skill": "transfer"}]


def test_the_card_url_is_the_agent_wide_route_for_the_callers_of_every_skill(tmp_path: Path):
    """teller calls both skills; analyst (research) only balance.read; clerk only transfer."""
    catalog = _bank(
        tmp_path,
        _agent("teller", "retail", a2aCalls=BOTH),
        _agent("analyst", "research", a2aCalls=[BOTH[0]]),
        _agent("clerk", "retail", a2aCalls=[BOTH[1]]),
    )
    plans = _plans(catalog, "vault")
    assert set(plans) == {"vault-chat", "vault-a2a", "vault-a2a-balance-read", "vault-a2a-transfer"}
    card = _card(catalog, "vault")
    assert card["url"] == GATEWAY + A2A_PATH.format(agent="vault") == GATEWAY + plans["vault-a2a"].route.path
    assert [i["url"].removeprefix(GATEWAY) for i in card["additionalInterfaces"]] == [
        "/api/v1/internal/a2a/vault", "/api/v1/internal/a2a/vault/balance.read", "/api/v1/internal/a2a/vault/transfer"
    ]
    _assert_card_names_only_routes(catalog, "vault")
    # the intersection of the skills' allow lists: a caller of one skill only is not on it
    assert _allow(catalog, "vault-a2a-balance-read") == ["agent:research/analyst", "agent:retail/teller"]
    assert _allow(catalog, "vault-a2a-transfer") == ["agent:retail/clerk", "agent:retail/teller"]
    assert _allow(catalog, "vault-a2a") == ["agent:retail/teller"]
    wide = plans["vault-a2a"]
    assert wide.route.skill_ids == ("balance.read", "transfer")
    assert wide.annotations[ANN_SKILLS] == "balance.read,transfer"
    assert not any(k in wide.annotations for k in (ANN_ALLOW_AGENTS, ANN_ALLOW_TENANTS, ANN_SENSITIVE))
    # the longest skill timeout (the skill is in the body), never replayed, rewritten to the agent's /a2a
    assert wide.annotations["higress.io/timeout"] == "90"
    assert wide.annotations["higress.io/proxy-next-upstream"] == "off"
    assert wide.annotations["higress.io/rewrite-path"] == "/a2a"


def test_no_caller_of_every_skill_means_no_agent_wide_route(tmp_path: Path):
    """An empty jwt-auth allow list is refused by Higress ("allow cannot be empty") and means the whole tenant to
    a2a_allowed_consumers: the route is not made, and the card's url is the first called skill's route."""
    catalog = _bank(tmp_path, _agent("analyst", "research", a2aCalls=[BOTH[0]]), _agent("clerk", "retail", a2aCalls=[BOTH[1]]))
    plans = _plans(catalog, "vault")
    assert set(plans) == {"vault-chat", "vault-a2a-balance-read", "vault-a2a-transfer"}
    assert _card(catalog, "vault")["url"] == GATEWAY + "/api/v1/internal/a2a/vault/balance.read"
    _assert_card_names_only_routes(catalog, "vault")


def test_an_agent_nobody_calls_has_no_a2a_route_and_its_card_lists_no_interface(tmp_path: Path):
    catalog = _bank(tmp_path)
    assert set(_plans(catalog, "vault")) == {"vault-chat"}
    card = _card(catalog, "vault")
    assert card["url"] == GATEWAY + "/api/v1/internal/a2a/vault" and "additionalInterfaces" not in card


def test_the_agent_wide_route_follows_the_rollout_and_the_skills_pin(tmp_path: Path):
    catalog = _bank(tmp_path, _agent("teller", "retail", a2aCalls=BOTH), rollout={"versions": CANARY})
    plans = _plans(catalog, "vault")
    assert plans["vault-a2a-canary-v1-1-0"].annotations["higress.io/canary-weight"] == "10"
    assert plans["vault-a2a-canary-v1-1-0"].route.allowed_caller_agents == ("retail/teller",)
    assert plans["vault-a2a-canary-v1-1-0"].route.path == "/api/v1/internal/a2a/vault"


def _pinned(tmp_path: Path, pins: tuple[str, str]):
    target = _agent("vault", "retail", rollout={"versions": CANARY},
                    a2aSkills=[_skill("balance.read", resilience={"version": pins[0]}), _skill("transfer", resilience={"version": pins[1]})])
    return _load(tmp_path, target, _agent("teller", "retail", a2aCalls=BOTH))


def test_skills_pinned_to_one_version_pin_the_agent_wide_route(tmp_path: Path):
    catalog = _pinned(tmp_path, ("1.1.0", "1.1.0"))
    wide = [p for n, p in _plans(catalog, "vault").items() if n.startswith("vault-a2a") and p.route.path == "/api/v1/internal/a2a/vault"]
    assert [(p.route.name, p.service, p.route.version) for p in wide] == [("vault-a2a", "vault-v1-1-0", "1.1.0")]


def test_skills_pinned_to_different_versions_leave_no_agent_wide_route(tmp_path: Path):
    """No one version serves both skills as pinned: callers use the skill routes the card lists."""
    catalog = _pinned(tmp_path, ("1.0.0", "1.1.0"))
    assert "vault-a2a" not in _plans(catalog, "vault")
    assert _card(catalog, "vault")["url"] == GATEWAY + "/api/v1/internal/a2a/vault/balance.read"
    _assert_card_names_only_routes(catalog, "vault")


def test_a_call_to_a_skill_the_target_does_not_expose_is_refused_at_the_call(tmp_path: Path):
    target = _agent("vault", "retail", a2aSkills=[_skill("ledger")])
    caller = _agent("caller", "retail", a2aCalls=[{"agent": "vault", "skill": "payroll"}])
    with pytest.raises(AgentSpecError) as err:
        _load(tmp_path, target, caller)
    assert err.value.problems == [
        f"agents/caller.yaml:{_line_of(caller, 'skill: payroll')} a2aCalls[0].skill: agent 'vault' has no A2A skill 'payroll' (it has ['ledger'])"
    ]


def _line_of(spec: dict, text: str) -> int:
    return next(i for i, line in enumerate(yaml.safe_dump(spec, sort_keys=False).splitlines(), 1) if line.strip().lstrip("- ") == text)


# ---------------------------------------------------------------- resilience


def _resilient(tmp_path: Path, resilience: dict, versions: Optional[list] = None):
    extra = {"rollout": {"versions": versions}} if versions else {}
    target = _agent("vault", "retail", a2aSkills=[_skill("ledger", resilience=resilience)], **extra)
    caller = _agent("caller", "retail", a2aCalls=[{"agent": "vault", "skill": "ledger"}])
    return _load(tmp_path, target, caller)


CANARY = [{"version": "1.0.0", "weight": 90}, {"version": "1.1.0", "weight": 10}]


def test_timeout_and_retries_become_higress_annotations(tmp_path: Path):
    catalog = _resilient(tmp_path, {"timeoutSeconds": 90, "retries": {"attempts": 3, "perTryTimeoutSeconds": 30, "retryOn": ["timeout", "http_502", "http_503"]}})
    ann = _plans(catalog, "vault")["vault-a2a-ledger"].annotations
    assert ann["higress.io/timeout"] == "90"
    assert ann["higress.io/proxy-next-upstream-tries"] == "3"
    assert ann["higress.io/proxy-next-upstream-timeout"] == "30"
    assert ann["higress.io/proxy-next-upstream"] == "timeout,http_502,http_503"
    assert "higress.io/default-backend" not in ann


def test_defaults_keep_the_agent_timeout_and_never_replay(tmp_path: Path):
    catalog = _resilient(tmp_path, {})
    ann = _plans(catalog, "vault")["vault-a2a-ledger"].annotations
    assert ann["higress.io/timeout"] == "600"  # route.timeoutSeconds
    assert ann["higress.io/proxy-next-upstream"] == "off"
    assert not any(k.startswith("higress.io/proxy-next-upstream-") for k in ann)


def test_a_pinned_skill_has_no_canaries_and_falls_back_to_its_fallback_version(tmp_path: Path):
    catalog = _resilient(tmp_path, {"version": "1.1.0", "fallbackVersion": "1.0.0", "fallbackOn": [503]}, CANARY)
    plans = _plans(catalog, "vault")
    skill_routes = {n for n in plans if n.startswith("vault-a2a-")}
    assert skill_routes == {"vault-a2a-ledger"}  # the chat route keeps its canary; the pinned skill has none
    assert "vault-chat-canary-v1-1-0" in plans
    pinned = plans["vault-a2a-ledger"]
    assert (pinned.service, pinned.fallback_service, pinned.route.version) == ("vault-v1-1-0", "vault-v1-0-0", "1.1.0")
    assert pinned.annotations["higress.io/default-backend"] == "vault-v1-0-0"
    assert pinned.annotations["higress.io/custom-http-errors"] == "503"


def test_an_unpinned_skill_follows_the_rollout(tmp_path: Path):
    catalog = _resilient(tmp_path, {"timeoutSeconds": 60}, CANARY)
    plans = _plans(catalog, "vault")
    assert {"vault-a2a-ledger", "vault-a2a-ledger-canary-v1-1-0"} <= set(plans)
    assert plans["vault-a2a-ledger-canary-v1-1-0"].annotations["higress.io/canary-weight"] == "10"
    assert plans["vault-a2a-ledger-canary-v1-1-0"].annotations["higress.io/timeout"] == "60"


@pytest.mark.parametrize(
    "resilience,versions,at,problem",
    [
        ({"version": "1.0.0", "fallbackVersion": "1.2.0"}, CANARY, "fallbackVersion:", "fallbackVersion: version 1.2.0 is not deployed (deployed: ['1.0.0', '1.1.0']; add it to rollout.versions)"),
        ({"version": "2.0.0"}, None, "version:", "version: version 2.0.0 is not deployed (deployed: ['1.0.0']"),
        ({"version": "1.0.0", "fallbackVersion": "1.0.0"}, CANARY, "fallbackVersion:", "fallbackVersion: must differ from the pinned version"),
        ({"retries": {"attempts": 6}}, None, "attempts:", "retries.attempts: must be <= 5 (got 6)"),
        ({"retries": {"attempts": -1}}, None, "attempts:", "retries.attempts: must be >= 0 (got -1)"),
        ({"timeoutSeconds": 0}, None, "timeoutSeconds:", "timeoutSeconds: must be >= 1 (got 0)"),
        ({"retries": {"attempts": 1, "retryOn": ["http_418"]}}, None, "- http_418", "retries.retryOn[0]: must be one of"),
        ({"version": "1.1.0", "fallbackVersion": "1.0.0", "fallbackOn": [404]}, CANARY, "- 404", "fallbackOn[0]: must be >= 500 (got 404)"),
        ({"circuitBreaker": {"consecutiveErrors": 5}}, None, "circuitBreaker:", "circuitBreaker: is not supported: Higress 2.2.1 has no circuit-breaker Ingress annotation"),
        ({"fallbackSkill": "audit"}, None, "fallbackSkill:", "fallbackSkill: is not supported: Higress falls back only to another Service at the same path"),
    ],
    ids=["fallback-not-deployed", "pin-not-deployed", "fallback-is-pin", "retries-above-5", "retries-negative", "timeout-zero",
         "unknown-retry-condition", "fallback-on-4xx", "circuit-breaker", "fallback-skill"],
)
def test_bad_resilience_is_refused_at_the_spec_line(tmp_path: Path, resilience: dict, versions, at: str, problem: str):
    with pytest.raises(AgentSpecError) as err:
        _resilient(tmp_path, resilience, versions)
    target = yaml.safe_dump(_agent("vault", "retail", a2aSkills=[_skill("ledger", resilience=resilience)],
                                   **({"rollout": {"versions": versions}} if versions else {})), sort_keys=False).splitlines()
    block = next(i for i, text in enumerate(target) if text.strip() == "resilience:")
    line = next(i for i, text in enumerate(target[block:], block + 1) if text.strip().startswith(at))
    assert any(p.startswith(f"agents/vault.yaml:{line} a2aSkills[0].resilience.{problem}") for p in err.value.problems), err.value.problems
    assert "(nothing was deployed)" in str(err.value)


# ---------------------------------------------------------------- the program (fixture stacks)


def test_the_fixture_routes_carry_each_skill_rule_and_resilience(stack_run):
    stack = fixture_stack(stack_run.stack)
    ingresses = {r.k8s_name: r.inputs for r in stack_run.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    chat = ingresses["conversation-a2a-chat-v1"]["metadata"]["annotations"]
    assert (chat[ANN_SENSITIVE], chat[ANN_ALLOW_AGENTS], chat[ANN_ALLOW_TENANTS]) == ("true", "retail/orchestrator", "")
    assert (chat["higress.io/timeout"], chat["higress.io/proxy-next-upstream-tries"]) == ("120", "2")
    assert chat["higress.io/default-backend"] == "conversation-v1-3-0"
    assert ingresses["conversation-a2a-chat-v1"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "conversation-v1-2-0"
    compose = ingresses["conversation-a2a-compose-v1"]["metadata"]["annotations"]
    assert (compose[ANN_SENSITIVE], compose[ANN_ALLOW_TENANTS], compose["higress.io/timeout"]) == ("false", "research", "300")
    internal = next(p.inputs for p in stack_run.of_type("kubernetes:extensions.higress.io/v1alpha1:WasmPlugin")
                    if p.inputs["metadata"]["name"] == "ar-jwt-auth-internal")
    allow = {ref: rule["config"]["allow"] for rule in internal["spec"]["matchRules"] for ref in rule["ingress"]}
    assert allow["tenant-retail/conversation-a2a-chat-v1"] == ["agent:retail/orchestrator"]
    assert allow["tenant-retail/conversation-a2a-compose-v1"] == ["agent:research/research-assistant"]
    catalog = load_agent_specs(FIXTURE_AGENTS, tenants=[t.name for t in stack.tenants], sandbox_profiles=["code-exec"])
    assert set(allow) == {r.ingress_ref for r in route_descriptors(catalog, stack) if r.kind == "a2a"}


def test_the_program_makes_the_card_route_and_the_policy_pack_holds_it_to_every_skill(tmp_path: Path):
    """The whole program (registry on): the card's url and interfaces are Ingresses it makes, the internal jwt-auth
    rule of the agent-wide route allows only teller, and the policy pack passes it but refuses a wider allow list."""
    agents = tmp_path / "agents"
    agents.mkdir()
    specs = [
        _agent("vault", "retail", a2aAccess={"allowTenants": ["research"]}, a2aSkills=[_skill("balance.read"), _skill("transfer", access={})]),
        _agent("teller", "retail", a2aCalls=BOTH),
        _agent("analyst", "research", a2aCalls=[BOTH[0]]),
    ]
    for spec in specs:
        (agents / f"{spec['name']}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run = run_program(
        "dev",
        overrides={"registry": {"enabled": True, "serverAddr": "http://127.0.0.1:8848"},
                   "agents": {"directory": str(agents), "externalSecrets": [f"{t}/model-credentials" for t in TENANTS]}},
        secrets={"registryPassword": "registry-pass-123"},
    )
    paths = {r.inputs["spec"]["rules"][0]["http"]["paths"][0]["path"]: r.k8s_name for r in run.of_type("kubernetes:networking.k8s.io/v1:Ingress")}
    card = next(r.inputs["card"] for r in run.of_type("pulumi-python:dynamic:Resource")
                if r.inputs.get("registryKind") == "AgentCard" and r.inputs["agentName"] == "vault")
    base = card["url"].removesuffix("/api/v1/internal/a2a/vault")
    assert paths[card["url"].removeprefix(base)] == "vault-a2a"
    assert [paths[i["url"].removeprefix(base)] for i in card["additionalInterfaces"]] == ["vault-a2a", "vault-a2a-balance-read", "vault-a2a-transfer"]
    plugin = next(p for p in run.of_type("kubernetes:extensions.higress.io/v1alpha1:WasmPlugin") if p.inputs["metadata"]["name"] == "ar-jwt-auth-internal")
    allow = {ref: rule["config"]["allow"] for rule in plugin.inputs["spec"]["matchRules"] for ref in rule["ingress"]}
    assert allow["tenant-retail/vault-a2a"] == ["agent:retail/teller"]
    assert allow["tenant-retail/vault-a2a-balance-read"] == ["agent:research/analyst", "agent:retail/teller"]

    resources = S.from_registered(run.resources)
    a2a = {"a2a-skill-access-respected", "a2a-route-timeout", "a2a-routes-require-internal-auth"}
    assert [v.message for v in S.run_direct(resources, env="dev") if v.policy in a2a] == []
    # analyst may call balance.read only: on the agent-wide route it could call transfer too
    internal = next(r for r in resources if r.props.get("metadata", {}).get("name") == "ar-jwt-auth-internal")
    wide_rule = next(r for r in internal.props["spec"]["matchRules"] if "tenant-retail/vault-a2a" in r["ingress"])
    wide_rule["config"]["allow"].append("agent:research/analyst")
    found = [v.message for v in S.run_direct(resources, env="dev") if v.policy == "a2a-skill-access-respected"]
    assert len(found) == 1 and "lets agent:research/analyst call every skill of agent 'vault' (tenant 'retail'), including 'transfer'" in found[0], found
