"""Gateway security settings reach the objects built elsewhere: Ingress TLS, A2A mTLS, chart tracing, plugins."""

import copy

from harness import run_program, stack_file_config

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


def _routes(run, kind):
    return [r for r in run.of_type(INGRESS) if r.inputs["metadata"]["labels"]["agent-runtime.io/route-kind"] == kind]


def test_prod_public_routes_carry_tls_and_dev_routes_do_not(dev_run, prod_run):
    public = _routes(prod_run, "public")
    assert public
    for r in public:
        assert r.inputs["spec"]["tls"] == [{"hosts": ["agents.example.com"], "secretName": "agent-runtime-public-tls"}]
        assert r.inputs["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
        assert r.inputs["metadata"]["annotations"]["higress.io/ssl-redirect"] == "true"
    for r in _routes(prod_run, "a2a"):
        assert "tls" not in r.inputs["spec"]
    for r in _routes(dev_run, "public"):
        assert "tls" not in r.inputs["spec"]
        assert not any(k.startswith("cert-manager.io/") for k in r.inputs["metadata"]["annotations"])


def test_internal_mtls_option_turns_on_upstream_tls_for_a2a_routes_only():
    security = copy.deepcopy(stack_file_config("prod")["agent-runtime:security"])
    security["internalMtls"] = {"enabled": True}
    run = run_program("prod", overrides={"security": security})
    a2a = _routes(run, "a2a")
    assert a2a
    for r in a2a:
        ann = r.inputs["metadata"]["annotations"]
        assert ann["higress.io/backend-protocol"] == "HTTPS"
        assert ann["higress.io/proxy-ssl-secret"].startswith(r.inputs["metadata"]["namespace"] + "/")
    for r in _routes(run, "public"):
        assert "higress.io/proxy-ssl-secret" not in r.inputs["metadata"]["annotations"]


def test_prod_chart_gets_trace_context_values(dev_run, prod_run):
    prod_chart = next(r for r in prod_run.of_type("kubernetes:helm.sh/v4:Chart") if r.name == "higress-chart")
    tracing = prod_chart.inputs["values"]["tracing"]
    assert tracing["enable"] is True and tracing["sampling"] == 10
    assert tracing["opentelemetry"]["service"] == "otel-collector.observability.svc.cluster.local"
    dev_chart = next(r for r in dev_run.of_type("kubernetes:helm.sh/v4:Chart") if r.name == "higress-chart")
    assert "tracing" not in dev_chart.inputs["values"]


def test_every_route_the_program_makes_is_guarded(stack_run):
    from render.gateway.coverage import uncovered_routes  # noqa: F401 - the policy pack checks the same

    plugins = stack_run.custom_resources("WasmPlugin")
    refs = {
        ref
        for p in plugins
        if p.inputs["metadata"]["labels"].get("agent-runtime.io/auth") in ("public", "internal")
        for rule in p.inputs["spec"].get("matchRules", [])
        for ref in rule.get("ingress", [])
    }
    for r in stack_run.of_type(INGRESS):
        assert f"{r.inputs['metadata']['namespace']}/{r.inputs['metadata']['name']}" in refs


def test_prod_refuses_to_run_without_the_guard():
    security = copy.deepcopy(stack_file_config("prod")["agent-runtime:security"])
    security["guard"] = {"enabled": False}
    try:
        run_program("prod", overrides={"security": security})
    except Exception as exc:  # ConfigError
        assert "agent-runtime:security.guard.enabled: the prompt-injection guard must be on in prod" in str(exc)
    else:
        raise AssertionError("prod without the prompt guard must fail")


def test_every_agent_route_is_created_after_the_plugins_that_guard_it(dev_run, prod_run):
    """Routes are guarded only through plugin matchRules, so a route created first would be briefly open."""
    for run in (dev_run, prod_run):
        plugins = {r.urn for r in run.of_type("kubernetes:extensions.higress.io/v1alpha1:WasmPlugin")}
        assert len(plugins) >= 4
        routes = run.of_type(INGRESS)
        assert routes
        for r in routes:
            missing = plugins - set(r.dependencies)
            assert not missing, f"{r.name} does not wait for {sorted(missing)}"
        # and the plugins do not wait for the agents (that would be the open-route order)
        agent_urns = {r.urn for r in run.resources if r.typ.startswith("kubernetes:") and r.parent and "agents:Agent" in r.parent}
        for urn in plugins:
            assert not agent_urns & set(run.by_urn(urn).dependencies)
