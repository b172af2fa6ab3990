"""GatewaySecurity under Pulumi mocks, built directly with synthetic routes.

DEV_SECURITY / PROD_SECURITY are the `agent-runtime:security` blocks proposed for
Pulumi.dev.yaml / Pulumi.prod.yaml; once they are in the stack files, whole-program
tests take over from these.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import pulumi
import pytest
import yaml
from pydantic import ValidationError

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PlatformMocks, RecordingMonitor  # noqa: E402

from components.gateway_security import GatewaySecurity, GatewaySecurityArgs  # noqa: E402
from models.security import GatewaySecuritySettings, environment_problems  # noqa: E402
from render.gateway import plugin_schemas  # noqa: E402
from render.gateway.coverage import stray_matches, uncovered_routes  # noqa: E402
from render.gateway.higress import gateway_chart_values  # noqa: E402
from render.gateway.plugins import build_plugins  # noqa: E402
from render.gateway.route_tls import a2a_mtls_annotations, tls_for_public_routes  # noqa: E402
from render.gateway.routes import GatewayRoute, a2a_allowed_consumers  # noqa: E402
from render.gateway.wasm import (  # noqa: E402
    LABEL_AUTH,
    PLUGIN_GUARD,
    PLUGIN_INTERNAL_JWT,
    PLUGIN_IP,
    PLUGIN_KEY_AUTH,
    PLUGIN_PUBLIC_JWT,
    PLUGIN_REQUESTS,
    PLUGIN_STATS,
    PLUGIN_TIER_CEILING,
    PLUGIN_TOKENS,
    PLUGIN_WAF,
    PLUGINS,
)

# pulumi-kubernetes registers a CustomResource under its own group/version/kind type token
WASM_TYPE = "kubernetes:extensions.higress.io/v1alpha1:WasmPlugin"
PODMONITOR_TYPE = "kubernetes:monitoring.coreos.com/v1:PodMonitor"
CR_TYPES = (WASM_TYPE, PODMONITOR_TYPE)
NS = "higress-system"

PUBLIC_JWKS = (
    '{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"test-public","e":"AQAB",'
    '"n":"yQra2QRwHquk9w8vKA-bdFLjJqugXxfaVT2prHW_29NDu5J1At_Ss6HwvXZtN0X98L_96s56taCROqr4GdmJDfIh4vBh1RtKP5r3"}]}'
)
A2A_JWKS = (
    '{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"test-a2a","e":"AQAB",'
    '"n":"5CQeqWz4bbDH6Vh31AvnDN0gOyQV93fauKo_LwKNuPoQNNmtIIG1y4WvQFCU7T_QK5WPNwzJXXyzC4nqFAGPg_koRC1kqLoeJtYb"}]}'
)

DEV_SECURITY = yaml.safe_load(f"""
publicAuth:
  issuers:
    - name: dev-idp
      issuer: https://idp.dev.agent-runtime.local
      jwks: '{PUBLIC_JWKS}'
internalAuth:
  issuer: https://a2a.dev.agent-runtime.internal
  jwks: '{A2A_JWKS}'
waf:
  enabled: false
guard:
  enabled: false
rateLimits:
  tiers:
    free: {{tokensPerMinute: 1000, requestsPerMinute: 10, a2aRequestsPerMinute: 30, tierRequestsPerSecond: 5}}
    standard: {{tokensPerMinute: 5000, requestsPerMinute: 60, a2aRequestsPerMinute: 120, tierRequestsPerSecond: 20}}
    premium: {{tokensPerMinute: 20000, requestsPerMinute: 120, a2aRequestsPerMinute: 600}}
tracing:
  enabled: false
monitoring:
  prometheusOperator: false
tls:
  mode: none
""")

PROD_SECURITY = yaml.safe_load(f"""
publicAuth:
  issuers:
    - name: corp-idp
      issuer: https://login.example.com/realms/agents
      jwks: '{PUBLIC_JWKS}'
internalAuth:
  issuer: https://a2a.agent-runtime.internal
  jwks: '{A2A_JWKS}'
keyAuth:
  enabled: true
  consumers:
    - name: billing-batch
      tenants: [retail]
  agents: [retail/orders]
ipRestriction:
  public:
    deny: [198.51.100.0/24]
  a2a:
    allow: [10.0.0.0/8]
waf:
  enabled: true
  mode: block
guard:
  enabled: true
  serviceName: prompt-guard.agent-runtime.svc.cluster.local
  servicePort: 8080
  pathPrefix: /guard
  failureModeAllow: false
rateLimits:
  tiers:
    free: {{tokensPerMinute: 2000, requestsPerMinute: 20, a2aRequestsPerMinute: 60, tierRequestsPerSecond: 20}}
    standard: {{tokensPerMinute: 20000, requestsPerMinute: 120, a2aRequestsPerMinute: 600, tierRequestsPerSecond: 200}}
    premium: {{tokensPerMinute: 100000, requestsPerMinute: 600, a2aRequestsPerMinute: 3000}}
tracing:
  enabled: true
  sampling: 10
  provider: opentelemetry
  service: otel-collector.observability.svc.cluster.local
  port: 4317
monitoring:
  prometheusOperator: true
  labels: {{release: kube-prome}}
tls:
  mode: certManager
  hosts: [agents.example.com]
  secretName: agent-runtime-public-tls
  clusterIssuer: letsencrypt-prod
internalMtls:
  enabled: false
""")

TIERS = {"retail": "premium", "research": "standard", "sandbox-lab": "free"}


def route(kind: str, tenant: str, agent: str, name: Optional[str] = None, **kw) -> GatewayRoute:
    return GatewayRoute(
        ingress_namespace=f"tenant-{tenant}",
        ingress_name=name or f"{agent}-{kind}",
        kind=kind,
        tenant=tenant,
        tier=TIERS[tenant],
        agent=agent,
        **kw,
    )


ROUTES = [
    route("public", "retail", "orders"),
    route("public", "retail", "assistant"),
    route("public", "research", "analyst"),
    route("public", "sandbox-lab", "toy"),
    # same-tenant default: every retail agent may call orders' query skill
    route("a2a", "retail", "orders", skill_ids=("query-v1",)),
    # skill-level allow list (own Ingress): only the assistant may run analyze-v1
    route("a2a", "retail", "orders", name="orders-a2a-analyze", skill_ids=("analyze-v1",),
          allowed_caller_agents=("assistant",)),
    # cross-tenant: research allows retail's assistant, and nobody else from retail
    route("a2a", "research", "analyst", skill_ids=("summarize-v1",), allowed_caller_tenants=("retail",),
          allowed_caller_agents=("analyst", "retail/assistant")),
]
PUBLIC_REFS = {r.ref for r in ROUTES if r.kind == "public"}
A2A_REFS = {r.ref for r in ROUTES if r.kind == "a2a"}


def settings(raw: dict) -> GatewaySecuritySettings:
    return GatewaySecuritySettings.model_validate(raw)


# --------------------------------------------------------------------------- running the component under mocks


def run_component(env: str, raw: dict, routes=ROUTES, **extra) -> list:
    """Build GatewaySecurity in a tiny Pulumi program under mocks; return what was registered."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.reset_options(project="agent-runtime", stack=env)
    mocks = PlatformMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="agent-runtime", stack=env, preview=False, monitor=monitor)
    try:
        GatewaySecurity(
            "gateway-security",
            GatewaySecurityArgs(settings=settings(raw), environment=env, gateway_namespace=NS, routes=list(routes),
                                tiers=TIERS, **extra),
        )
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return monitor.registered


PROD_SECRETS = dict(redis_password="redis-pa55word-xyz", key_auth_credentials={"billing-batch": "sk-billing-0123456789"})


@pytest.fixture(scope="module")
def dev_resources():
    return run_component("dev", DEV_SECURITY)


@pytest.fixture(scope="module")
def prod_resources():
    return run_component("prod", PROD_SECURITY, chart_creates_gateway_monitor=True, **PROD_SECRETS)


def wasm_plugins(resources) -> dict[str, Any]:
    return {r.k8s_name: r for r in resources if r.typ == WASM_TYPE}


def pod_monitors(resources) -> dict[str, Any]:
    return {r.k8s_name: r for r in resources if r.typ == PODMONITOR_TYPE}


def matched(plugin) -> set[str]:
    return {ref for rule in plugin.inputs["spec"]["matchRules"] for ref in rule["ingress"]}


def rule_for(plugin, ref: str) -> dict:
    rules = [r for r in plugin.inputs["spec"]["matchRules"] if ref in r["ingress"]]
    assert len(rules) == 1, f"{plugin.k8s_name}: {ref} in {len(rules)} rules"
    return rules[0]["config"]


# --------------------------------------------------------------------------- presence, pinning, matching


EXPECTED = {
    # name: (plugin, matched refs, fail strategy dev, fail strategy prod)
    PLUGIN_PUBLIC_JWT: ("jwt-auth", PUBLIC_REFS),
    PLUGIN_INTERNAL_JWT: ("jwt-auth", A2A_REFS),
    PLUGIN_KEY_AUTH: ("key-auth", {"tenant-retail/orders-public"}),
    PLUGIN_IP: ("ip-restriction", PUBLIC_REFS | A2A_REFS),
    PLUGIN_WAF: ("waf", PUBLIC_REFS),
    PLUGIN_GUARD: ("ext-auth", PUBLIC_REFS),
    PLUGIN_TOKENS: ("ai-token-ratelimit", PUBLIC_REFS),
    PLUGIN_REQUESTS: ("cluster-key-rate-limit", PUBLIC_REFS | A2A_REFS),
    PLUGIN_TIER_CEILING: ("cluster-key-rate-limit", {r.ref for r in ROUTES if r.kind == "public" and r.tier != "premium"}),
    PLUGIN_STATS: ("ai-statistics", PUBLIC_REFS | A2A_REFS),
}


def test_prod_has_every_plugin_pinned_and_matched_exactly(prod_resources):
    plugins = wasm_plugins(prod_resources)
    assert set(plugins) == set(EXPECTED)
    for name, (plugin, refs) in EXPECTED.items():
        p = plugins[name]
        spec = p.inputs["spec"]
        pinned = PLUGINS[plugin]
        assert p.inputs["apiVersion"] == "extensions.higress.io/v1alpha1"
        assert p.k8s_namespace == NS
        assert spec["url"] == f"oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/{plugin}:{pinned.version}"
        assert spec["phase"] == pinned.phase
        assert spec["priority"] in (pinned.priority, pinned.priority + 1)
        assert matched(p) == refs, name
        assert all(set(rule) <= {"ingress", "config"} and rule["ingress"] for rule in spec["matchRules"])
    assert stray_matches([p.inputs for p in plugins.values()], ROUTES) == []


def test_versions_are_the_pinned_upstream_ones():
    assert {k: (v.version, v.phase, v.priority) for k, v in PLUGINS.items()} == {
        "jwt-auth": ("2.0.0", "AUTHN", 340),
        "key-auth": ("2.0.0", "AUTHN", 310),
        "ip-restriction": ("2.0.1", "AUTHN", 210),
        "waf": ("2.0.1", "AUTHZ", 330),
        "ext-auth": ("2.0.1", "AUTHZ", 300),  # upstream AUTHN/360: moved after jwt-auth + WAF on purpose
        "ai-token-ratelimit": ("2.0.1", "UNSPECIFIED_PHASE", 600),
        "cluster-key-rate-limit": ("2.0.1", "UNSPECIFIED_PHASE", 20),
        "ai-statistics": ("2.0.1", "UNSPECIFIED_PHASE", 900),
    }


def test_auth_plugins_fail_closed_and_are_labelled(prod_resources, dev_resources):
    for resources in (prod_resources, dev_resources):
        plugins = wasm_plugins(resources)
        assert plugins[PLUGIN_PUBLIC_JWT].inputs["metadata"]["labels"][LABEL_AUTH] == "public"
        assert plugins[PLUGIN_INTERNAL_JWT].inputs["metadata"]["labels"][LABEL_AUTH] == "internal"
        for name, p in plugins.items():
            if p.inputs["spec"]["phase"] == "AUTHN":
                assert p.inputs["spec"]["failStrategy"] == "FAIL_CLOSE", name


def test_public_jwt_consumers_and_allow(prod_resources):
    p = wasm_plugins(prod_resources)[PLUGIN_PUBLIC_JWT].inputs["spec"]
    assert p["defaultConfigDisable"] is False
    dc = p["defaultConfig"]
    assert dc["global_auth"] is False
    issuer = PROD_SECURITY["publicAuth"]["issuers"][0]
    assert dc["consumers"] == [{
        "name": "corp-idp", "issuer": issuer["issuer"], "jwks": issuer["jwks"],
        "claims_to_headers": [{"claim": "sub", "header": "x-agent-runtime-subject", "override": True}],
        "clock_skew_seconds": 60, "keep_token": True,
    }]
    for ref in PUBLIC_REFS:
        assert rule_for(wasm_plugins(prod_resources)[PLUGIN_PUBLIC_JWT], ref) == {"allow": ["corp-idp"]}


def test_internal_jwt_identities_tenant_boundaries_and_skill_allow_lists(prod_resources):
    plugin = wasm_plugins(prod_resources)[PLUGIN_INTERNAL_JWT]
    consumers = {c["name"]: c for c in plugin.inputs["spec"]["defaultConfig"]["consumers"]}
    assert set(consumers) == {"agent:retail/orders", "agent:retail/assistant", "agent:research/analyst",
                              "agent:sandbox-lab/toy"}
    assert consumers["agent:retail/orders"]["issuer"] == "https://a2a.agent-runtime.internal/retail/orders"
    assert all(c["jwks"] == A2A_JWKS for c in consumers.values())
    # same tenant by default (sandbox-lab and research agents are not let in)
    assert rule_for(plugin, "tenant-retail/orders-a2a")["allow"] == ["agent:retail/assistant", "agent:retail/orders"]
    # skill-level list on its own Ingress
    assert rule_for(plugin, "tenant-retail/orders-a2a-analyze")["allow"] == ["agent:retail/assistant"]
    # cross-tenant only for the tenant the target allows, and only the listed agent
    assert rule_for(plugin, "tenant-research/analyst-a2a")["allow"] == ["agent:research/analyst", "agent:retail/assistant"]


def test_qualified_callers_never_admit_a_same_named_agent_of_another_allowed_tenant():
    # research allows retail callers; both tenants have an "assistant", only retail's calls the target
    target = route("a2a", "research", "analyst", skill_ids=("x",), allowed_caller_tenants=("retail",),
                   allowed_caller_agents=("retail/assistant",))
    routes = [*ROUTES, route("public", "research", "assistant")]
    assert a2a_allowed_consumers(target, routes) == ["agent:retail/assistant"]
    # an unqualified name (hand-written settings) still means that name in every tenant the target admits
    loose = target.model_copy(update={"allowed_caller_agents": ("assistant",)})
    assert a2a_allowed_consumers(loose, routes) == ["agent:research/assistant", "agent:retail/assistant"]


def test_cross_tenant_caller_without_tenant_permission_is_refused():
    bad = route("a2a", "research", "analyst", skill_ids=("x",), allowed_caller_agents=("retail/assistant",))
    with pytest.raises(ValueError, match="does not allow"):
        a2a_allowed_consumers(bad, ROUTES)
    default_cross = route("a2a", "research", "analyst", skill_ids=("x",), allowed_caller_tenants=("retail",))
    assert "agent:sandbox-lab/toy" not in a2a_allowed_consumers(default_cross, ROUTES)
    assert "agent:retail/orders" in a2a_allowed_consumers(default_cross, ROUTES)


# --------------------------------------------------------------------------- coverage checks


def test_complete_coverage(prod_resources, dev_resources):
    for resources in (prod_resources, dev_resources):
        assert uncovered_routes(wasm_plugins(resources).values(), ROUTES) == []


def _without_rule(plugins: dict, name: str, ref: str) -> list[dict]:
    out = []
    for n, p in plugins.items():
        obj = copy.deepcopy(p.inputs)
        if n == name:
            for rule in obj["spec"]["matchRules"]:
                rule["ingress"] = [x for x in rule["ingress"] if x != ref]
            obj["spec"]["matchRules"] = [r for r in obj["spec"]["matchRules"] if r["ingress"]]
        out.append(obj)
    return out


def test_public_route_without_jwt_fails(prod_resources):
    plugins = wasm_plugins(prod_resources)
    problems = uncovered_routes(_without_rule(plugins, PLUGIN_PUBLIC_JWT, "tenant-research/analyst-public"), ROUTES)
    assert problems == ["public route tenant-research/analyst-public: not guarded by a jwt-auth plugin "
                        "labelled agent-runtime.io/auth=public"]
    # a new public route nobody told the security layer about
    extra = route("public", "retail", "newcomer")
    assert uncovered_routes(plugins.values(), ROUTES + [extra])[0].startswith("public route tenant-retail/newcomer-public")


def test_a2a_route_without_internal_auth_fails(prod_resources):
    plugins = wasm_plugins(prod_resources)
    problems = uncovered_routes(_without_rule(plugins, PLUGIN_INTERNAL_JWT, "tenant-retail/orders-a2a-analyze"), ROUTES)
    assert len(problems) == 1 and "a2a route tenant-retail/orders-a2a-analyze: not guarded" in problems[0]


def test_a2a_route_guarded_only_by_public_jwt_fails(prod_resources):
    objs = [copy.deepcopy(p.inputs) for p in wasm_plugins(prod_resources).values()]
    for obj in objs:  # relabel the internal plugin as public: A2A routes lose internal auth
        if obj["metadata"]["name"] == PLUGIN_INTERNAL_JWT:
            obj["metadata"]["labels"][LABEL_AUTH] = "public"
    problems = uncovered_routes(objs, ROUTES)
    assert any("a2a route tenant-retail/orders-a2a: not guarded" in p for p in problems)
    assert any("also matched by the public jwt-auth plugin" in p for p in problems)


def test_global_jwt_auth_or_empty_allow_fails(prod_resources):
    objs = [copy.deepcopy(p.inputs) for p in wasm_plugins(prod_resources).values()]
    for obj in objs:
        if obj["metadata"]["name"] == PLUGIN_PUBLIC_JWT:
            obj["spec"]["defaultConfig"]["global_auth"] = True
            obj["spec"]["matchRules"][0]["config"]["allow"] = []
    problems = uncovered_routes(objs, ROUTES)
    assert any("global_auth must be false" in p for p in problems)
    assert any("empty allow list" in p for p in problems)
    assert any("active global defaultConfig" in p for p in stray_matches(objs, ROUTES))


# --------------------------------------------------------------------------- plugin config schemas


def test_schema_files_name_their_upstream_source_and_pinned_version():
    files = plugin_schemas.available()
    assert set(files) == {(p.name, p.version) for p in PLUGINS.values()}
    for (name, version), path in files.items():
        doc = json.loads(path.read_text())
        assert doc["x-plugin"] == name and doc["x-plugin-version"] == version
        assert doc["x-source"]["pluginImage"].endswith(f"/plugins/{name}:{version}")
        assert any("higress-console v2.2.4" in s for s in doc["x-source"]["derivedFrom"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_plugin_config_matches_its_published_schema(env, dev_resources, prod_resources):
    resources = {"dev": dev_resources, "prod": prod_resources}[env]
    for p in wasm_plugins(resources).values():
        assert plugin_schemas.validate_wasm_plugin(p.inputs) == [], p.k8s_name


@pytest.mark.parametrize(
    "plugin, mutate, needle",
    [
        (PLUGIN_PUBLIC_JWT, lambda s: s["defaultConfig"].update(global_auht=False), "global_auht"),
        (PLUGIN_PUBLIC_JWT, lambda s: s["defaultConfig"]["consumers"][0].update(jwks_uri="https://x"), "jwks_uri"),
        (PLUGIN_PUBLIC_JWT, lambda s: s["matchRules"][0]["config"].update(consumers=[]), "consumers"),
        (PLUGIN_TOKENS, lambda s: s["matchRules"][0]["config"]["rule_items"][0]["limit_keys"][0].update(
            token_per_minut=5), "token_per_minut"),
        (PLUGIN_TOKENS, lambda s: s["matchRules"][0]["config"]["redis"].update(service="x"), "service"),
        (PLUGIN_REQUESTS, lambda s: s["matchRules"][0]["config"]["rule_items"][0].update(limit_by_header="x"), "valid under each of"),
        (PLUGIN_WAF, lambda s: s["matchRules"][0]["config"].update(useCrs=True), "useCrs"),
        (PLUGIN_GUARD, lambda s: s["matchRules"][0]["config"]["http_service"]["authorization_request"].update(
            with_body=True), "with_body"),
        (PLUGIN_GUARD, lambda s: s["matchRules"][0]["config"]["http_service"]["endpoint"].pop("path_prefix"),
         "path_prefix"),
        (PLUGIN_STATS, lambda s: s["matchRules"][0]["config"]["attributes"][0].update(value_source="header"),
         "header"),
        (PLUGIN_IP, lambda s: s["matchRules"][0]["config"].update(ip_source="header"), "ip_source"),
        (PLUGIN_KEY_AUTH, lambda s: s["defaultConfig"].update(key=["x-api-key"]), "key"),
    ],
)
def test_typo_in_a_plugin_config_fails(prod_resources, plugin, mutate, needle):
    obj = copy.deepcopy(wasm_plugins(prod_resources)[plugin].inputs)
    mutate(obj["spec"])
    errors = plugin_schemas.validate_wasm_plugin(obj)
    assert errors and any(needle in e for e in errors), errors


def test_unpinned_or_unknown_plugin_version_fails(prod_resources):
    obj = copy.deepcopy(wasm_plugins(prod_resources)[PLUGIN_WAF].inputs)
    obj["spec"]["url"] = obj["spec"]["url"].replace(":2.0.1", ":9.9.9")
    assert "no config schema" in plugin_schemas.validate_wasm_plugin(obj)[0]
    obj["spec"]["url"] = obj["spec"]["url"].replace(":9.9.9", ":latest")
    assert "not a pinned" in plugin_schemas.validate_wasm_plugin(obj)[0]


# --------------------------------------------------------------------------- rate limits and priority


def test_token_and_request_limits_per_tier_and_tenant(prod_resources):
    plugins = wasm_plugins(prod_resources)
    tiers = PROD_SECURITY["rateLimits"]["tiers"]
    for r in ROUTES:
        if r.kind == "public":
            tok = rule_for(plugins[PLUGIN_TOKENS], r.ref)
            assert tok["rule_name"] == f"ar-tokens-{r.tier}-{r.tenant}"  # a bucket per tenant
            assert tok["rule_items"] == [{"limit_by_per_consumer": "", "limit_keys": [
                {"key": "*", "token_per_minute": tiers[r.tier]["tokensPerMinute"]}]}]
            assert tok["redis"]["service_name"] == "redis-stack-server.higress-system.svc.cluster.local"
            assert tok["redis"]["service_port"] == 6379
            req = rule_for(plugins[PLUGIN_REQUESTS], r.ref)
            assert req["rule_items"][0]["limit_keys"][0]["query_per_minute"] == tiers[r.tier]["requestsPerMinute"]
        else:
            req = rule_for(plugins[PLUGIN_REQUESTS], r.ref)
            assert req["rule_name"] == f"ar-a2a-{r.tier}-{r.tenant}"
            assert req["rule_items"][0]["limit_keys"][0]["query_per_minute"] == tiers[r.tier]["a2aRequestsPerMinute"]
    ceilings = {rule["config"]["rule_name"]: rule["config"]["global_threshold"]
                for rule in plugins[PLUGIN_TIER_CEILING].inputs["spec"]["matchRules"]}
    assert ceilings == {"ar-tier-ceiling-free": {"query_per_second": 20},
                        "ar-tier-ceiling-standard": {"query_per_second": 200}}


def test_lower_tier_may_not_get_more_than_a_higher_one():
    raw = copy.deepcopy(PROD_SECURITY)
    raw["rateLimits"]["tiers"]["free"]["tokensPerMinute"] = 10**9
    with pytest.raises(ValidationError, match="must not decrease"):
        settings(raw)
    raw = copy.deepcopy(PROD_SECURITY)
    raw["rateLimits"]["tiers"]["free"].pop("tierRequestsPerSecond")
    with pytest.raises(ValidationError, match="uncapped"):
        settings(raw)


def test_tier_mismatch_with_tenant_is_refused():
    wrong = [route("public", "retail", "orders").model_copy(update={"tier": "free"})]
    with pytest.raises(ValueError, match="tier"):
        build_plugins(settings(PROD_SECURITY), "prod", NS, wrong, TIERS)


# --------------------------------------------------------------------------- secrets


def test_credentials_are_secret_outputs_in_state(prod_resources):
    plugins = wasm_plugins(prod_resources)
    key_auth = plugins[PLUGIN_KEY_AUTH]
    assert key_auth.inputs["spec"]["defaultConfig"]["consumers"] == [
        {"name": "billing-batch", "credential": "sk-billing-0123456789"}]
    assert "spec.defaultConfig.consumers[0].credential" in key_auth.secret_paths
    for name in (PLUGIN_TOKENS, PLUGIN_REQUESTS, PLUGIN_TIER_CEILING):
        p = plugins[name]
        for i, rule in enumerate(p.inputs["spec"]["matchRules"]):
            assert rule["config"]["redis"]["password"] == "redis-pa55word-xyz"
            assert f"spec.matchRules[{i}].config.redis.password" in p.secret_paths, name
    # nothing else is secret, and no non-secret input carries a credential
    for p in plugins.values():
        assert all(path.endswith(("credential", "password")) for path in p.secret_paths)


def test_dev_without_secrets_has_no_password(dev_resources):
    for p in wasm_plugins(dev_resources).values():
        assert "password" not in json.dumps(p.inputs)


def test_key_auth_without_credential_is_refused():
    with pytest.raises(ValueError, match="gatewayKeyAuthCredentials"):
        build_plugins(settings(PROD_SECURITY), "prod", NS, ROUTES, TIERS, key_auth_credentials={})


def test_private_or_symmetric_keys_in_plain_config_are_refused():
    for key in ({"kty": "oct", "k": "c2VjcmV0"}, {"kty": "RSA", "e": "AQAB", "n": "abc", "d": "private"}):
        raw = copy.deepcopy(DEV_SECURITY)
        raw["publicAuth"]["issuers"][0]["jwks"] = json.dumps({"keys": [key]})
        with pytest.raises(ValidationError, match="private/symmetric"):
            settings(raw)


def test_unknown_setting_is_refused():
    raw = copy.deepcopy(DEV_SECURITY)
    raw["waf"]["useCrs"] = True
    with pytest.raises(ValidationError, match="useCrs"):
        settings(raw)


# --------------------------------------------------------------------------- dev vs prod


def test_dev_vs_prod_differences(dev_resources, prod_resources):
    dev, prod = wasm_plugins(dev_resources), wasm_plugins(prod_resources)
    # prompt guard: on in prod (request body sent, fails closed), off in dev
    assert PLUGIN_GUARD not in dev
    guard = rule_for(prod[PLUGIN_GUARD], "tenant-retail/orders-public")
    assert guard["http_service"]["authorization_request"]["with_request_body"] is True
    assert guard["http_service"]["endpoint_mode"] == "envoy"
    assert guard["http_service"]["endpoint"] == {"service_name": "prompt-guard.agent-runtime.svc.cluster.local",
                                                 "service_port": 8080, "path_prefix": "/guard"}
    assert guard["failure_mode_allow"] is False
    assert prod[PLUGIN_GUARD].inputs["spec"]["failStrategy"] == "FAIL_CLOSE"
    # WAF with the OWASP CRS, blocking, only in prod
    assert PLUGIN_WAF not in dev
    assert rule_for(prod[PLUGIN_WAF], "tenant-retail/orders-public") == {"useCRS": True}
    assert prod[PLUGIN_WAF].inputs["spec"]["failStrategy"] == "FAIL_CLOSE"
    # key-auth and IP lists only configured in prod
    assert PLUGIN_KEY_AUTH not in dev and PLUGIN_IP not in dev
    assert rule_for(prod[PLUGIN_IP], "tenant-retail/orders-public")["deny"] == ["198.51.100.0/24"]
    assert rule_for(prod[PLUGIN_IP], "tenant-retail/orders-a2a")["allow"] == ["10.0.0.0/8"]
    # dev limits are tighter than prod's for every tier
    for r in ROUTES:
        if r.kind == "public":
            d = rule_for(dev[PLUGIN_TOKENS], r.ref)["rule_items"][0]["limit_keys"][0]["token_per_minute"]
            p = rule_for(prod[PLUGIN_TOKENS], r.ref)["rule_items"][0]["limit_keys"][0]["token_per_minute"]
            assert d < p
    # TLS / tracing / monitoring
    assert tls_for_public_routes(settings(DEV_SECURITY)) == {"annotations": {}, "tls": []}
    assert gateway_chart_values(settings(DEV_SECURITY)) == {}
    assert gateway_chart_values(settings(PROD_SECURITY))["tracing"]["opentelemetry"] == {
        "service": "otel-collector.observability.svc.cluster.local", "port": "4317"}
    assert pod_monitors(dev_resources) == {}
    assert set(pod_monitors(prod_resources)) == {"ar-agents"}  # the chart makes the gateway's own


def test_prod_refuses_weakened_settings():
    raw = copy.deepcopy(PROD_SECURITY)
    raw["guard"]["enabled"] = False
    raw["waf"]["mode"] = "detect"
    raw["tls"] = {"mode": "none"}
    problems = environment_problems(settings(raw), "prod")
    assert len(problems) == 3
    with pytest.raises(ValueError, match="guard"):
        build_plugins(settings(raw), "prod", NS, ROUTES, TIERS)
    # the same settings are fine for dev
    assert environment_problems(settings(raw), "dev") == []


def test_guard_defaults_follow_environment():
    raw = copy.deepcopy(DEV_SECURITY)
    raw.pop("guard")
    s = settings(raw)
    assert s.guard.is_enabled("prod") and not s.guard.is_enabled("dev")
    assert not s.guard.fails_open("prod") and s.guard.fails_open("dev")
    assert PLUGIN_GUARD not in {p["metadata"]["name"] for p in build_plugins(s, "dev", NS, ROUTES, TIERS)}


# --------------------------------------------------------------------------- statistics, monitoring, TLS


def test_ai_statistics_attributes(prod_resources):
    stats = rule_for(wasm_plugins(prod_resources)[PLUGIN_STATS], "tenant-retail/orders-a2a")
    attrs = {a["key"]: (a["value_source"], a["value"]) for a in stats["attributes"]}
    assert attrs["consumer"] == ("request_header", "x-mse-consumer")
    assert attrs["model"] == ("request_body", "model")
    assert attrs["a2a_trace_id"] == ("request_header", "x-a2a-trace-id")
    assert attrs["a2a_skill"] == ("response_header", "x-a2a-skill-id")
    assert all(a["apply_to_log"] and a["apply_to_span"] for a in stats["attributes"])
    assert stats["enable_path_suffixes"] == ["*"]


def test_pod_monitors_when_operator_present():
    resources = run_component("prod", PROD_SECURITY, chart_creates_gateway_monitor=False, **PROD_SECRETS)
    monitors = pod_monitors(resources)
    gw = monitors["ar-higress-gateway"].inputs
    assert gw["metadata"]["namespace"] == NS and gw["metadata"]["labels"]["release"] == "kube-prome"
    assert gw["spec"]["selector"]["matchLabels"] == {"app": "higress-gateway", "higress": "higress-system-higress-gateway"}
    assert gw["spec"]["podMetricsEndpoints"][0]["port"] == "istio-prom"
    agents = monitors["ar-agents"].inputs["spec"]
    assert agents["namespaceSelector"]["matchNames"] == ["tenant-research", "tenant-retail", "tenant-sandbox-lab"]
    assert agents["selector"]["matchLabels"] == {"app.kubernetes.io/component": "agent", "app.kubernetes.io/part-of": "agent-runtime"}


def test_tls_and_mtls_data_for_the_ingress_builder():
    assert tls_for_public_routes(settings(PROD_SECURITY)) == {
        "annotations": {"higress.io/tls-min-protocol-version": "TLSv1.2", "higress.io/ssl-redirect": "true",
                        "cert-manager.io/cluster-issuer": "letsencrypt-prod"},
        "tls": [{"hosts": ["agents.example.com"], "secretName": "agent-runtime-public-tls"}],
    }
    raw = copy.deepcopy(PROD_SECURITY)
    raw["tls"] = {"mode": "secret", "hosts": ["a.example.com"], "secretName": "mine"}
    assert tls_for_public_routes(settings(raw))["tls"] == [{"hosts": ["a.example.com"], "secretName": "mine"}]
    assert "cert-manager.io/cluster-issuer" not in tls_for_public_routes(settings(raw))["annotations"]
    assert a2a_mtls_annotations(settings(PROD_SECURITY), "tenant-retail") == {}
    raw["internalMtls"] = {"enabled": True}
    assert a2a_mtls_annotations(settings(raw), "tenant-retail", sni="orders.tenant-retail.svc") == {
        "higress.io/backend-protocol": "HTTPS",
        "higress.io/proxy-ssl-secret": "tenant-retail/a2a-gateway-client-tls",
        "higress.io/proxy-ssl-verify": "on",
        "higress.io/proxy-ssl-name": "orders.tenant-retail.svc",
        "higress.io/proxy-ssl-server-name": "on",
    }
    with pytest.raises(ValidationError, match="exactly one"):
        settings({**PROD_SECURITY, "tls": {"mode": "certManager", "hosts": ["x"], "secretName": "s"}})


# --------------------------------------------------------------------------- strict CRD validation


@pytest.fixture(scope="module")
def k8s_schema():
    from testing import k8s_schema

    return k8s_schema


@pytest.fixture(scope="module")
def higress_22_crd_cache(k8s_schema, tmp_path_factory):
    """A private schema cache built with AGENT_RUNTIME_EXTRA_CRDS = the vendored Higress 2.2.1 CRDs.

    Exercises the explicit-override path (the shared cache uses the same file by default).
    Offline: reuses the shared Go module cache.
    """
    crd_file = k8s_schema.HIGRESS_VENDORED_CRDS
    if not crd_file.is_file():
        pytest.fail(f"vendored Higress 2.2.1 CRDs missing: {crd_file} (expected ../shared/vendor/higress-2.2.1 "
                    "beside the repo; see its SOURCE.md)")
    shared = k8s_schema.ensure_crd_schemas()  # populates the shared gomod cache
    cache = tmp_path_factory.mktemp("crd-cache")
    (cache / "gomod").symlink_to(shared.parent.parent / "gomod")
    mp = pytest.MonkeyPatch()
    mp.setenv("AGENT_RUNTIME_CACHE", str(cache))
    mp.setenv("AGENT_RUNTIME_EXTRA_CRDS", str(crd_file))
    mp.setenv("GOPROXY", "off")
    mp.setenv("GOFLAGS", "-mod=mod")
    try:
        index = k8s_schema.known_custom_kinds()
        for key in ("networking.higress.io_v1_McpBridge", "extensions.higress.io_v1alpha1_WasmPlugin"):
            assert index[key]["source"] == "AGENT_RUNTIME_EXTRA_CRDS", index[key]
            assert Path(index[key]["source_file"]).resolve() == crd_file.resolve(), index[key]
        yield cache
    finally:
        mp.undo()


def _objects(resources, k8s_schema):
    return [k8s_schema.pulumi_resource_to_object(r.typ, r.name, r.inputs) for r in resources if r.typ in CR_TYPES]


def test_objects_valid_against_higress_22_crds(higress_22_crd_cache, k8s_schema, prod_resources, dev_resources):
    resources = run_component("prod", PROD_SECURITY, **PROD_SECRETS)  # includes the gateway PodMonitor
    objs = _objects(resources, k8s_schema) + _objects(dev_resources, k8s_schema)
    assert {o["kind"] for o in objs} == {"WasmPlugin", "PodMonitor"}
    assert k8s_schema.validate_objects(objs) == []


def test_objects_valid_against_shared_crd_cache(k8s_schema, prod_resources):
    """Against the shared cache, whose Higress schemas are the vendored 2.2.1 CRDs: zero errors."""
    sources = k8s_schema.higress_schema_sources()
    if not os.environ.get("AGENT_RUNTIME_EXTRA_CRDS"):
        assert sources["extensions.higress.io_v1alpha1_WasmPlugin"] == k8s_schema.HIGRESS_VENDORED_SOURCE, sources
    objs = _objects(prod_resources, k8s_schema)
    assert any(o["kind"] == "WasmPlugin" and "failStrategy" in o["spec"] for o in objs)
    assert k8s_schema.validate_objects(objs) == []


def test_routes_from_the_agents_route_descriptors():
    agent = pytest.importorskip("components.agent")
    from render.gateway.routes import routes_from_descriptors

    D = agent.RouteDescriptor
    descriptors = [
        D(namespace="tenant-retail", name="orders-chat", kind="public", tenant="retail", agent="orders",
          version="v1", canary=False, path="/api/v1/agents/orders/chat"),
        D(namespace="tenant-retail", name="orders-chat-canary-v2", kind="public", tenant="retail", agent="orders",
          version="v2", canary=True, path="/api/v1/agents/orders/chat"),
        D(namespace="tenant-retail", name="orders-a2a", kind="a2a", tenant="retail", agent="orders", version="v1",
          canary=False, path="/api/v1/internal/a2a/orders", allowed_caller_agents=("assistant", "analyst"),
          allowed_caller_tenants=("research", "retail"), skill_ids=("query-v1",)),
        D(namespace="tenant-retail", name="assistant-chat", kind="public", tenant="retail", agent="assistant",
          version="v1", canary=False, path="/api/v1/agents/assistant/chat"),
        D(namespace="tenant-research", name="analyst-chat", kind="public", tenant="research", agent="analyst",
          version="v1", canary=False, path="/api/v1/agents/analyst/chat"),
    ]
    routes = routes_from_descriptors(descriptors, TIERS)
    assert [r.ref for r in routes][:2] == ["tenant-retail/orders-chat", "tenant-retail/orders-chat-canary-v2"]
    plugins = build_plugins(settings(DEV_SECURITY), "dev", NS, routes, TIERS)
    assert uncovered_routes(plugins, routes) == []
    internal = next(p for p in plugins if p["metadata"]["name"] == PLUGIN_INTERNAL_JWT)
    assert internal["spec"]["matchRules"] == [{"ingress": ["tenant-retail/orders-a2a"], "config": {
        "allow": ["agent:research/analyst", "agent:retail/assistant"]}}]
    # canaries are routes of their own: guarded like the primary
    public = next(p for p in plugins if p["metadata"]["name"] == PLUGIN_PUBLIC_JWT)
    assert "tenant-retail/orders-chat-canary-v2" in {x for r in public["spec"]["matchRules"] for x in r["ingress"]}
