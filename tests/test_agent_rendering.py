"""The example agents as the real program renders them under mocks, in dev and prod."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from a2a.types import AgentCard

from models.agent_spec import load_agent_specs
from models.settings import parse_stack_config
from render.agent.labels import LABEL_VERSION
from render.agent.routes import LABEL_ROUTE_KIND, route_descriptors
from render.k8s_common import LABEL_AGENT
from harness import fixture_stack, FIXTURE_AGENTS, ProgramRun, Registered, agents_override, run_program, stack_file_config

REPO = Path(__file__).resolve().parent.parent
DEPLOY = "kubernetes:apps/v1:Deployment"
SVC = "kubernetes:core/v1:Service"
CM = "kubernetes:core/v1:ConfigMap"
SA = "kubernetes:core/v1:ServiceAccount"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
RUNTIME_CLASS = "kubernetes:node.k8s.io/v1:RuntimeClass"
TEMPLATE = "kubernetes:extensions.agents.x-k8s.io/v1beta1:SandboxTemplate"
WARMPOOL = "kubernetes:extensions.agents.x-k8s.io/v1beta1:SandboxWarmPool"
QUOTA = "kubernetes:core/v1:ResourceQuota"
CHART = "kubernetes:helm.sh/v4:Chart"

NS = {"orchestrator": "tenant-retail", "conversation": "tenant-retail", "research-assistant": "tenant-research"}
TENANT = {"orchestrator": "retail", "conversation": "retail", "research-assistant": "research"}
VERSIONS = {"orchestrator": ["2.0.0"], "conversation": ["1.2.0", "1.3.0"], "research-assistant": ["0.9.0"]}


def _slug(v: str) -> str:
    return "v" + v.replace(".", "-")


def _agent_objects(run: ProgramRun, agent: str) -> list[Registered]:
    parents = {r.urn for r in run.resources if r.typ == "agent-runtime:agents:Agent" and r.name == f"agent-{agent}"}
    return [r for r in run.resources if r.parent in parents]


def _container(deploy: Registered) -> dict:
    return deploy.inputs["spec"]["template"]["spec"]["containers"][0]


# ---------------------------------------------------------------- labels and placement


@pytest.mark.parametrize("agent", sorted(NS))
def test_every_agent_object_is_labelled_and_in_the_tenant_namespace(stack_run, agent):
    objects = _agent_objects(stack_run, agent)
    assert len(objects) >= 8  # an agent whose skills nobody calls has no A2A route
    for r in objects:
        labels = r.inputs["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == agent, r.name
        assert labels["app.kubernetes.io/component"] == "agent", r.name
        assert labels[LABEL_AGENT] == agent and labels["agent-runtime.io/tenant"] == TENANT[agent], r.name
        assert r.k8s_namespace == NS[agent], r.name


@pytest.mark.parametrize("agent", sorted(NS))
def test_config_and_deployment_per_version_one_service_and_budget_per_agent(stack_run, agent):
    ns = NS[agent]
    stack_run.one(SA, agent, ns)
    stable = stack_run.one(SVC, agent, ns)
    assert LABEL_VERSION not in stable.inputs["spec"]["selector"]
    budget = stack_run.one(PDB, agent, ns)
    assert budget.inputs["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": stable.inputs["spec"]["selector"]}}
    deployments = [r for r in stack_run.of_type(DEPLOY) if r.k8s_namespace == ns and r.inputs["metadata"]["labels"][LABEL_AGENT] == agent]
    assert sorted(d.k8s_name for d in deployments) == sorted(f"{agent}-{_slug(v)}" for v in VERSIONS[agent])
    version_services = [r for r in stack_run.of_type(SVC) if r.k8s_namespace == ns and r.k8s_name.startswith(f"{agent}-v")]
    for version in VERSIONS[agent]:
        name = f"{agent}-{_slug(version)}"
        deploy = stack_run.one(DEPLOY, name, ns)
        pod_labels = deploy.inputs["spec"]["template"]["metadata"]["labels"]
        assert pod_labels[LABEL_VERSION] == version
        assert deploy.inputs["spec"]["selector"]["matchLabels"][LABEL_VERSION] == version
        # the agent's budget covers every version's pods
        assert budget.inputs["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        stack_run.one(CM, f"{name}-config", ns)
        if len(VERSIONS[agent]) > 1:
            # canaries split traffic between Ingress backends: one Service per version
            assert stack_run.one(SVC, name, ns).inputs["spec"]["selector"] == deploy.inputs["spec"]["selector"]["matchLabels"]
    if len(VERSIONS[agent]) == 1:
        assert version_services == [], "a one-version agent is routed to its agent Service"


def test_routes_point_at_version_services_only_while_several_versions_are_served(stack_run):
    for agent, ns in NS.items():
        backends = {
            r.inputs["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
            for r in stack_run.of_type(INGRESS)
            if r.k8s_namespace == ns and r.inputs["metadata"]["labels"][LABEL_AGENT] == agent
        }
        if len(VERSIONS[agent]) == 1:
            assert backends == {agent}
        else:
            assert backends == {f"{agent}-{_slug(v)}" for v in VERSIONS[agent]}
        # every route waits for its backend Service
        services = {r.k8s_name: r.urn for r in stack_run.of_type(SVC) if r.k8s_namespace == ns}
        for r in stack_run.of_type(INGRESS):
            if r.k8s_namespace == ns and r.inputs["metadata"]["labels"][LABEL_AGENT] == agent:
                backend = r.inputs["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
                assert services[backend] in r.dependencies, r.name


@pytest.mark.parametrize("agent", sorted(NS))
def test_deployments_are_restricted_probed_spread_and_hash_their_config(stack_run, agent):
    for version in VERSIONS[agent]:
        deploy = stack_run.one(DEPLOY, f"{agent}-{_slug(version)}", NS[agent])
        spec = deploy.inputs["spec"]
        pod = spec["template"]["spec"]
        assert "replicas" not in spec, "the autoscaler owns the replica count"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        c = _container(deploy)
        sc = c["securityContext"]
        assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"]["port"] == "http"
        assert {t["topologyKey"] for t in pod["topologySpreadConstraints"]} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
        assert len(spec["template"]["metadata"]["annotations"]["agent-runtime.io/config-hash"]) == 16
        assert pod["serviceAccountName"] == agent


def test_credentials_reach_containers_only_as_files_of_secrets(stack_run):
    """No credential in any object and none in env: each is a file of one projected Secret volume."""
    for agent in NS:
        for r in _agent_objects(stack_run, agent):
            text = json.dumps(r.inputs)
            assert "sk-" not in text and "pcsk_" not in text
        for version in VERSIONS[agent]:
            deploy = stack_run.one(DEPLOY, f"{agent}-{_slug(version)}", NS[agent])
            container = _container(deploy)
            assert not [e for e in container["env"] if "valueFrom" in e], "no secret reaches the container as an env var"
            pod = deploy.inputs["spec"]["template"]["spec"]
            [volume] = [v for v in pod["volumes"] if v["name"] == "credentials"]
            assert volume["projected"]["defaultMode"] == 0o440 and pod["securityContext"]["fsGroup"] == 10001
            assert {"name": "credentials", "mountPath": "/etc/agent-credentials", "readOnly": True} in container["volumeMounts"]
    pod = stack_run.one(DEPLOY, "conversation-v1-2-0", "tenant-retail").inputs["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "credentials"]
    files = {(s["secret"]["name"], i["key"]): i["path"] for s in volume["projected"]["sources"] for i in s["secret"]["items"]}
    assert files == {("model-credentials", "anthropic-api-key"): "model-api-key", ("memory-credentials", "pinecone-api-key"): "memory-api-key"}


# ---------------------------------------------------------------- config and AgentCard


def test_configmap_holds_config_and_a_valid_agent_card(stack_run):
    cm = stack_run.one(CM, "orchestrator-v2-0-0-config", "tenant-retail")
    config = json.loads(cm.inputs["data"]["config.json"])
    card = json.loads(cm.inputs["data"]["agent-card.json"])
    AgentCard.model_validate(card)
    assert card["url"] == "http://higress-gateway.higress-system.svc.cluster.local/api/v1/internal/a2a/orchestrator"
    assert card["preferredTransport"] == "JSONRPC" and card["capabilities"]["streaming"] is True
    assert [s["id"] for s in card["skills"]] == ["plan-v1"]
    assert card["securitySchemes"]["internalJwt"]["scheme"] == "bearer"
    assert config["model"]["temperature"] == 0.2 and config["model"]["apiKeyFile"] == "/etc/agent-credentials/model-api-key"
    assert config["tools"][0]["name"] == "product-catalog"
    assert config["tools"][0]["auth"]["valueFile"] == "/etc/agent-credentials/mcp-product-catalog-auth"
    assert config["a2a"]["calls"] == [
        {"agent": "conversation", "skill": "chat-v1", "url": "http://higress-gateway.higress-system.svc.cluster.local/api/v1/internal/a2a/conversation/chat-v1"}
    ]
    assert cm.inputs["data"]["system-prompt.txt"].startswith("You are the retail orchestrator")
    # the canary version carries its own model parameters
    canary = json.loads(stack_run.one(CM, "conversation-v1-3-0-config", "tenant-retail").inputs["data"]["config.json"])
    assert canary["model"]["temperature"] == 0.3 and canary["agent"]["version"] == "1.3.0"


def test_changing_config_changes_the_config_hash_and_only_it(tmp_path: Path):
    agents = tmp_path / "agents"
    shutil.copytree(FIXTURE_AGENTS, agents)
    override = agents_override("dev", directory=str(agents))
    before = run_program("dev", overrides=override).one(DEPLOY, "orchestrator-v2-0-0", "tenant-retail")
    spec = yaml.safe_load((agents / "orchestrator.yaml").read_text())
    spec["model"]["temperature"] = 0.9
    (agents / "orchestrator.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    after = run_program("dev", overrides=override).one(DEPLOY, "orchestrator-v2-0-0", "tenant-retail")
    key = "agent-runtime.io/config-hash"
    assert before.inputs["spec"]["template"]["metadata"]["annotations"][key] != after.inputs["spec"]["template"]["metadata"]["annotations"][key]
    strip = lambda d: {k: v for k, v in d["spec"]["template"]["spec"].items()}  # noqa: E731
    assert strip(before.inputs) == strip(after.inputs)


# ---------------------------------------------------------------- autoscaling


def test_hpa_for_agents_with_a_floor_and_keda_for_scale_to_zero(stack_run):
    hpa = stack_run.one(HPA, "orchestrator-v2-0-0", "tenant-retail").inputs["spec"]
    assert hpa["minReplicas"] == 2 and hpa["maxReplicas"] == 10
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "orchestrator-v2-0-0"}
    assert {m["resource"]["name"] for m in hpa["metrics"]} == {"cpu", "memory"}
    assert not [r for r in stack_run.of_type(SCALED) if r.k8s_name.startswith(("orchestrator", "conversation"))]
    assert not [r for r in stack_run.of_type(HPA) if r.k8s_name.startswith("research-assistant")]

    scaled = stack_run.one(SCALED, "research-assistant-v0-9-0", "tenant-research")
    spec = scaled.inputs["spec"]
    assert spec["minReplicaCount"] == 0 and spec["maxReplicaCount"] == 4 and spec["cooldownPeriod"] == 600
    prom = next(t for t in spec["triggers"] if t["type"] == "prometheus")
    assert prom["metadata"]["serverAddress"] == "http://prometheus-operated.monitoring.svc.cluster.local:9090"
    assert 'cluster_name="outbound|8080||research-assistant.tenant-research.svc.cluster.local"' in prom["metadata"]["query"]
    assert prom["metadata"]["threshold"] == "2" and prom["metadata"]["activationThreshold"] == "0"
    # the ScaledObject waits for the KEDA chart that installs its CRD
    chart = next(r for r in stack_run.of_type(CHART) if r.name == "keda-chart")
    assert chart.urn in scaled.dependencies
    if stack_run.stack == "dev":
        # the vendored copy of the official chart (its Helm repository is out of reach here)
        assert chart.inputs["chart"] == "../shared/vendor/keda-2.20.2/keda"
    else:
        assert chart.inputs["chart"] == "keda" and chart.inputs["version"] == "2.20.2"
        assert chart.inputs["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"


# ---------------------------------------------------------------- network policies


def test_agent_network_policy_admits_gateway_and_a2a_callers_only(stack_run):
    spec = stack_run.one(NETPOL, "agent-conversation", "tenant-retail").inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": {LABEL_AGENT: "conversation"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    sources = []
    for rule in spec["ingress"]:
        assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
        for peer in rule["from"]:
            ns = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            agents = tuple(peer.get("podSelector", {}).get("matchExpressions", [{"values": []}])[0]["values"])
            sources.append((ns, agents))
    assert sorted(sources) == [("higress-system", ()), ("tenant-research", ("research-assistant",)), ("tenant-retail", ("orchestrator",))]
    # an agent nobody calls admits the gateway only
    orchestrator = stack_run.one(NETPOL, "agent-orchestrator", "tenant-retail").inputs["spec"]
    assert len(orchestrator["ingress"]) == 1


def test_agent_network_policy_egress_is_an_allow_list(stack_run):
    egress = stack_run.one(NETPOL, "agent-orchestrator", "tenant-retail").inputs["spec"]["egress"]
    assert egress[0]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    nacos = egress[1]
    assert nacos["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "agent-runtime"
    assert {p["port"] for p in nacos["ports"]} == {8848, 9848}
    public = [r for r in egress if "ipBlock" in r["to"][0] and r["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"]
    assert public and all("10.0.0.0/8" in r["to"][0]["ipBlock"]["except"] for r in public)
    assert all(r.get("ports") for r in egress), "every egress rule is port-bounded"
    # calls conversation: through the gateway and straight to conversation's pods
    assert any(r["to"][0].get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "higress-system" for r in egress)
    assert any(r["to"][0].get("podSelector", {}).get("matchLabels") == {LABEL_AGENT: "conversation"} for r in egress)
    research = stack_run.one(NETPOL, "agent-research-assistant", "tenant-research").inputs["spec"]["egress"]
    assert {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"protocol": "TCP", "port": 443}]} in research
    assert any(r["to"][0].get("podSelector", {}).get("matchLabels") == {"agent-runtime.io/sandbox-profile": "code-exec"} for r in research)


# ---------------------------------------------------------------- routes


def _ingresses(run: ProgramRun, agent: str) -> dict[str, Registered]:
    return {r.k8s_name: r for r in run.of_type(INGRESS) if r.inputs["metadata"]["labels"].get(LABEL_AGENT) == agent}


def test_chat_and_a2a_routes_are_higress_ingresses_with_sse_settings(stack_run):
    chat = _ingresses(stack_run, "orchestrator")["orchestrator-chat"].inputs
    a2a = _ingresses(stack_run, "conversation")["conversation-a2a-compose-v1"].inputs
    for ing, kind in ((chat, "public"), (a2a, "a2a")):
        assert ing["spec"]["ingressClassName"] == "higress"
        assert ing["metadata"]["namespace"] == "tenant-retail"
        assert ing["metadata"]["labels"][LABEL_ROUTE_KIND] == kind
        ann = ing["metadata"]["annotations"]
        assert ann["higress.io/match-method"] == "POST"
        assert ann["higress.io/proxy-next-upstream"] == "off"
        assert ann["higress.io/response-header-control-update"] == "X-Accel-Buffering no"
        assert "higress.io/canary" not in ann
    assert chat["metadata"]["annotations"]["higress.io/timeout"] == "600"  # the agent's route.timeoutSeconds
    assert a2a["metadata"]["annotations"]["higress.io/timeout"] == "300"  # the skill's own
    chat_path = chat["spec"]["rules"][0]["http"]["paths"][0]
    assert chat_path["path"] == "/api/v1/agents/orchestrator/chat" and chat_path["pathType"] == "Exact"
    assert chat_path["backend"]["service"] == {"name": "orchestrator", "port": {"name": "http"}}
    assert chat["metadata"]["annotations"]["higress.io/rewrite-path"] == "/chat"
    a2a_path = a2a["spec"]["rules"][0]["http"]["paths"][0]
    assert a2a_path["path"] == "/api/v1/internal/a2a/conversation/compose-v1" and a2a_path["pathType"] == "Prefix"
    assert a2a["metadata"]["annotations"]["higress.io/rewrite-path"] == "/a2a/compose-v1"
    # no internal route for an agent without skills, nor for skills nobody calls (orchestrator's plan-v1)
    assert set(_ingresses(stack_run, "research-assistant")) == {"research-assistant-chat"}
    assert set(_ingresses(stack_run, "orchestrator")) == {"orchestrator-chat"}


def test_canary_by_weight_and_by_header(stack_run):
    routes = _ingresses(stack_run, "conversation")
    # chat-v1 is pinned to 1.2.0: one route, no canaries
    assert set(routes) == {
        f"conversation-{kind}{suffix}"
        for kind in ("chat", "a2a-compose-v1")
        for suffix in ("", "-canary-v1-3-0", "-canary-v1-3-0-by-header")
    } | {"conversation-a2a-chat-v1"}
    primary = routes["conversation-chat"].inputs
    weight = routes["conversation-chat-canary-v1-3-0"].inputs
    header = routes["conversation-chat-canary-v1-3-0-by-header"].inputs
    backend = lambda ing: ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]  # noqa: E731
    path = lambda ing: ing["spec"]["rules"][0]["http"]["paths"][0]["path"]  # noqa: E731
    assert backend(primary) == "conversation-v1-2-0"
    assert backend(weight) == backend(header) == "conversation-v1-3-0"
    assert path(primary) == path(weight) == path(header)
    w = weight["metadata"]["annotations"]
    assert (w["higress.io/canary"], w["higress.io/canary-weight"], w["higress.io/canary-weight-total"]) == ("true", "10", "100")
    h = header["metadata"]["annotations"]
    assert (h["higress.io/canary-by-header"], h["higress.io/canary-by-header-value"]) == ("x-agent-canary", "1.3.0")
    assert "higress.io/canary-weight" not in h
    # Higress keys a canary to its primary by path AND method: both must match
    for ing in (weight, header):
        assert ing["metadata"]["annotations"]["higress.io/match-method"] == primary["metadata"]["annotations"]["higress.io/match-method"]


def test_rollback_is_a_weight_change(tmp_path: Path):
    agents = tmp_path / "agents"
    shutil.copytree(FIXTURE_AGENTS, agents)
    spec = yaml.safe_load((agents / "conversation.yaml").read_text())
    spec["rollout"]["versions"][0]["weight"] = 100
    spec["rollout"]["versions"][1]["weight"] = 0
    (agents / "conversation.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run = run_program("dev", overrides=agents_override("dev", directory=str(agents)))
    routes = _ingresses(run, "conversation")
    assert "conversation-chat-canary-v1-3-0" not in routes
    assert "conversation-chat-canary-v1-3-0-by-header" in routes  # testers can still reach it
    run.one(DEPLOY, "conversation-v1-3-0", "tenant-retail")  # still running: rolling forward again is instant


def test_route_descriptors_match_the_ingresses(stack_run):
    stack = fixture_stack(stack_run.stack)
    catalog = load_agent_specs(FIXTURE_AGENTS, tenants=[t.name for t in stack.tenants], sandbox_profiles=["code-exec"])
    routes = route_descriptors(catalog, stack)
    ingresses = {(r.k8s_namespace, r.k8s_name): r for r in stack_run.of_type(INGRESS)}
    assert {(r.namespace, r.name) for r in routes} == set(ingresses)
    for route in routes:
        labels = ingresses[(route.namespace, route.name)].inputs["metadata"]["labels"]
        assert labels[LABEL_ROUTE_KIND] == route.kind and labels[LABEL_AGENT] == route.agent
    by_name = {r.name: r for r in routes}
    chat, compose = by_name["conversation-a2a-chat-v1"], by_name["conversation-a2a-compose-v1"]
    assert (chat.skill_ids, chat.allowed_caller_agents, chat.allowed_caller_tenants) == (("chat-v1",), ("retail/orchestrator",), ("retail",))
    assert (compose.skill_ids, compose.allowed_caller_agents) == (("compose-v1",), ("research/research-assistant",))
    assert compose.ingress_ref == "tenant-retail/conversation-a2a-compose-v1"
    assert stack_run.outputs["agentRoutes"]


# ---------------------------------------------------------------- sandboxes


def test_sandbox_profile_renders_runtime_template_pool_policy_and_quota(stack_run):
    rc = stack_run.one(RUNTIME_CLASS, "gvisor")
    assert rc.inputs["handler"] == "runsc"
    template = stack_run.one(TEMPLATE, "sandbox-code-exec", "tenant-research").inputs["spec"]
    pod = template["podTemplate"]["spec"]
    assert pod["runtimeClassName"] == "gvisor"
    assert pod["automountServiceAccountToken"] is False and pod["activeDeadlineSeconds"] == 900
    c = pod["containers"][0]
    assert c["securityContext"]["privileged"] is False and c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["image"] == "ghcr.io/agent-runtime/sandbox-python:0.1.0"
    assert template["networkPolicyManagement"] == "Managed"
    pool = stack_run.one(WARMPOOL, "sandbox-code-exec", "tenant-research").inputs["spec"]
    assert pool == {"replicas": 1 if stack_run.stack == "dev" else 3, "sandboxTemplateRef": {"name": "sandbox-code-exec"}}
    policy = stack_run.one(NETPOL, "sandbox-code-exec", "tenant-research").inputs["spec"]
    assert policy["podSelector"] == {"matchLabels": {"agent-runtime.io/sandbox-profile": "code-exec"}}
    assert policy["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"] == ["research-assistant"]
    assert policy["egress"][1] == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }
    quota = stack_run.one(QUOTA, "sandboxes", "tenant-research").inputs["spec"]
    assert quota["scopes"] == ["Terminating"]
    count = 4 if stack_run.stack == "dev" else 20
    assert quota["hard"]["pods"] == str(count) and quota["hard"]["limits.cpu"] == f"{count * 1000}m"
    # only the tenant whose agents use the profile gets one
    assert not [r for r in stack_run.of_type(TEMPLATE) if r.k8s_namespace != "tenant-research"]
    # the agent claims sandboxes through RBAC scoped to its namespace, not via privilege
    deploy = stack_run.one(DEPLOY, "research-assistant-v0-9-0", "tenant-research")
    config = json.loads(stack_run.one(CM, "research-assistant-v0-9-0-config", "tenant-research").inputs["data"]["config.json"])
    assert config["sandbox"] == {"profile": "code-exec", "tools": ["python", "shell", "files"], "namespace": "tenant-research", "warmPool": "code-exec", "ttlSeconds": 900, "runtime": "gvisor"}
    assert _container(deploy)["securityContext"]["privileged"] is False


# ---------------------------------------------------------------- strict schemas


def test_every_agent_object_is_valid_against_upstream_schemas(stack_run):
    k8s_schema = pytest.importorskip("testing.k8s_schema", reason="testing/k8s_schema.py (strict validation) is not there yet")
    parents = {
        r.urn
        for r in stack_run.resources
        if r.typ in ("agent-runtime:agents:Agent", "agent-runtime:agents:SandboxRuntimes", "agent-runtime:agents:Keda")
    }
    checked, errors = set(), []
    for r in stack_run.resources:
        if r.parent not in parents:
            continue
        obj = k8s_schema.pulumi_resource_to_object(r.typ, r.name, r.inputs)
        if obj is None:
            continue
        checked.add(obj["kind"])
        errors += k8s_schema.validate_object(obj)
    assert not errors, "\n".join(errors)
    assert {
        "Deployment", "Service", "ConfigMap", "ServiceAccount", "PodDisruptionBudget", "HorizontalPodAutoscaler",
        "ScaledObject", "NetworkPolicy", "Ingress", "RuntimeClass", "SandboxTemplate", "SandboxWarmPool",
        "ResourceQuota", "Role", "RoleBinding", "Namespace",
    } <= checked
