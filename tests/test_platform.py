"""The platform stack (Nacos, Higress, tenants) as the real program registers it, per stack."""

import pytest
import yaml

from harness import FIXTURE_STACKS, OFFLINE_KUBECONFIG, ProgramRun, run_program

STS = "kubernetes:apps/v1:StatefulSet"
SVC = "kubernetes:core/v1:Service"
SECRET = "kubernetes:core/v1:Secret"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CHART = "kubernetes:helm.sh/v4:Chart"
NS = "kubernetes:core/v1:Namespace"

EXPECTED = {
    "dev": {
        "nacos_replicas": 1,
        "mode": "standalone",
        "nacos_resources": {"requests": {"cpu": "250m", "memory": "1536Mi"}, "limits": {"cpu": "1", "memory": "1536Mi"}},
        "storage": "5Gi",
        "gateway_replicas": 1,
        "gateway_resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "tenants": {"retail": "standard", "research": "free"},
    },
    "prod": {
        "nacos_replicas": 3,
        "mode": "cluster",
        "nacos_resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "storage": "20Gi",
        "gateway_replicas": 3,
        "gateway_resources": {"requests": {"cpu": "2000m", "memory": "4Gi"}, "limits": {"cpu": "2000m", "memory": "4Gi"}},
        "tenants": {"retail": "premium", "research": "standard", "sandbox-lab": "free"},
    },
}


def _env(container: dict) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


def _higress_chart(run: ProgramRun):
    charts = [r for r in run.of_type(CHART) if r.name == "higress-chart"]
    assert len(charts) == 1
    return charts[0]


def _nacos_container(run: ProgramRun) -> dict:
    sts = run.one(STS, "nacos", "agent-runtime")
    return next(c for c in sts.inputs["spec"]["template"]["spec"]["containers"] if c["name"] == "nacos")


# ---------------------------------------------------------------- provider and structure


def test_one_explicit_kubernetes_provider_used_by_every_kubernetes_resource(stack_run):
    providers = stack_run.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    provider_urn = providers[0].urn
    k8s_resources = [r for r in stack_run.resources if r.typ.startswith("kubernetes:")]
    assert k8s_resources
    for r in k8s_resources:
        assert r.provider.startswith(provider_urn + "::"), f"{r.name} does not use the explicit provider"


def test_dev_targets_the_local_plane_and_prod_a_cluster_context(dev_run, prod_run):
    dev_provider = dev_run.of_type("pulumi:providers:kubernetes")[0].inputs
    prod_provider = prod_run.of_type("pulumi:providers:kubernetes")[0].inputs
    # the harness stands in for the plane's kubeconfig file; the stack file names the plane's
    assert dev_provider["kubeconfig"] == OFFLINE_KUBECONFIG and dev_provider["context"] == "local-plane"
    dev_file = yaml.safe_load((FIXTURE_STACKS / "Pulumi.dev.yaml").read_text())["config"]["agent-runtime:kubernetes"]
    assert dev_file == {"kubeconfig": "~/.cache/agent-runtime/local-plane/dev/kubeconfig", "context": "local-plane"}
    assert prod_provider["context"] == "prod"
    assert "renderYamlToDirectory" not in prod_provider and "renderYamlToDirectory" not in dev_provider


def test_every_resource_is_parented_to_a_component(stack_run):
    components = {r.urn for r in stack_run.resources if r.typ.startswith("agent-runtime:")}
    for r in stack_run.resources:
        if r.typ.startswith("pulumi:providers:") or r.typ.startswith("agent-runtime:"):
            continue
        assert r.parent in components, f"{r.typ} {r.name} is not parented to a component"


# ---------------------------------------------------------------- Nacos


def test_nacos_statefulset_replicas_image_mode_and_resources(stack_run):
    exp = EXPECTED[stack_run.stack]
    sts = stack_run.one(STS, "nacos", "agent-runtime")
    spec = sts.inputs["spec"]
    assert spec["replicas"] == exp["nacos_replicas"]
    assert spec["serviceName"] == "nacos-headless"
    assert spec["podManagementPolicy"] == "Parallel"
    container = _nacos_container(stack_run)
    assert container["image"] == "nacos/nacos-server:v3.1.1"
    assert _env(container)["MODE"]["value"] == exp["mode"]
    assert _env(container)["PREFER_HOST_MODE"]["value"] == "hostname"
    assert container["resources"] == exp["nacos_resources"]
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == exp["storage"]
    assert {"name": "data", "mountPath": "/home/nacos/data"} in container["volumeMounts"]


def test_nacos_cluster_members_come_from_stable_pod_hostnames(dev_run, prod_run):
    assert "NACOS_SERVERS" not in _env(_nacos_container(dev_run))
    servers = _env(_nacos_container(prod_run))["NACOS_SERVERS"]["value"].split(" ")
    assert servers == [f"nacos-{i}.nacos-headless.agent-runtime.svc.cluster.local:8848" for i in range(3)]


def test_nacos_auth_is_on_and_wired_only_through_the_secret(stack_run):
    env = _env(_nacos_container(stack_run))
    assert env["NACOS_AUTH_ENABLE"]["value"] == "true"
    for var, key in {
        "NACOS_AUTH_TOKEN": "token",
        "NACOS_AUTH_IDENTITY_KEY": "identity-key",
        "NACOS_AUTH_IDENTITY_VALUE": "identity-value",
    }.items():
        assert "value" not in env[var], f"{var} must not be a literal"
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "nacos-auth", "key": key}
    secret = stack_run.one(SECRET, "nacos-auth", "agent-runtime")
    assert "stringData" in secret.secret_paths, "the auth Secret's data must be a Pulumi secret"
    assert set(secret.inputs["stringData"]) == {"token", "identity-key", "identity-value", "admin-password"}


def test_generated_auth_material_uses_pulumi_random_when_the_stack_supplies_none(dev_run):
    types = {r.typ for r in dev_run.resources}
    assert "random:index/randomBytes:RandomBytes" in types
    token = dev_run.one("random:index/randomBytes:RandomBytes")
    assert token.inputs["length"] == 32
    passwords = {r.name for r in dev_run.of_type("random:index/randomPassword:RandomPassword")}
    assert passwords == {"nacos-identity", "nacos-admin-password"}


def test_stack_supplied_secrets_replace_the_generated_ones():
    token = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w"  # 40 bytes, base64
    run = run_program(
        "dev",
        secrets={
            "nacosAuthToken": token,
            "nacosAdminPassword": "correct-horse-battery",
            "nacosIdentityValue": "identity-value-of-at-least-16",
        },
    )
    assert not [r for r in run.resources if r.typ.startswith("random:index/")]
    secret = run.one(SECRET, "nacos-auth", "agent-runtime")
    assert secret.inputs["stringData"]["token"] == token
    assert secret.inputs["stringData"]["admin-password"] == "correct-horse-battery"
    assert "stringData" in secret.secret_paths
    gateway_credentials = run.one(SECRET, "nacos-registry-credentials", "higress-system")
    assert gateway_credentials.inputs["stringData"]["nacosPassword"] == "correct-horse-battery"
    assert "stringData" in gateway_credentials.secret_paths


def test_nacos_probes_use_the_console_health_endpoints_with_a_startup_grace(stack_run):
    c = _nacos_container(stack_run)
    for probe in ("startupProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/v3/console/health/readiness", "port": 8080}
    assert c["livenessProbe"]["httpGet"] == {"path": "/v3/console/health/liveness", "port": 8080}
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180


def test_nacos_pods_are_locked_down(stack_run):
    sts = stack_run.one(STS, "nacos", "agent-runtime")
    pod = sts.inputs["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for c in pod["containers"] + pod["initContainers"]:
        sc = c["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["privileged"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert c["resources"]["limits"] and c["resources"]["requests"]


def test_nacos_anti_affinity_is_required_in_a_cluster(dev_run, prod_run):
    prod_pod = prod_run.one(STS, "nacos").inputs["spec"]["template"]["spec"]
    required = prod_pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["topologyKey"] == "kubernetes.io/hostname"
    dev_pod = dev_run.one(STS, "nacos").inputs["spec"]["template"]["spec"]
    assert "preferredDuringSchedulingIgnoredDuringExecution" in dev_pod["affinity"]["podAntiAffinity"]


def test_nacos_services_headless_for_peers_and_client_for_callers(stack_run):
    headless = stack_run.one(SVC, "nacos-headless", "agent-runtime").inputs["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["publishNotReadyAddresses"] is True
    assert {p["port"] for p in headless["ports"]} == {8848, 9848, 9849, 7848, 8080}
    client = stack_run.one(SVC, "nacos", "agent-runtime").inputs["spec"]
    assert client["type"] == "ClusterIP"
    assert {8848, 9848} <= {p["port"] for p in client["ports"]}


def test_nacos_has_a_disruption_budget(stack_run):
    pdb = stack_run.one("kubernetes:policy/v1:PodDisruptionBudget", "nacos", "agent-runtime").inputs["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"]["app.kubernetes.io/name"] == "nacos"


def test_only_gateway_agents_and_peers_reach_nacos(stack_run):
    deny = stack_run.one(NETPOL, "default-deny", "agent-runtime").inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    access = stack_run.one(NETPOL, "nacos-access", "agent-runtime").inputs["spec"]
    sources = [rule["from"][0] for rule in access["ingress"]]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "higress-system"}}} in sources
    assert {"namespaceSelector": {"matchExpressions": [{"key": "agent-runtime.io/tenant", "operator": "Exists"}]}} in sources
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nacos", "app.kubernetes.io/component": "registry"}}} in sources
    # nothing opens Nacos to everyone
    for rule in access["ingress"]:
        assert rule.get("from"), "an ingress rule without 'from' admits every source"


def test_admin_user_is_initialised_from_the_secret_not_a_literal(stack_run):
    job = stack_run.one("kubernetes:batch/v1:Job", "nacos-admin-init", "agent-runtime")
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("curlimages/curl:") and not container["image"].endswith(":latest")
    env = _env(container)
    assert env["NACOS_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "nacos-auth", "key": "admin-password"}
    script = container["command"][-1]
    assert "mock-password" not in script and "--data-urlencode" in script


def test_mysql_storage_wires_the_password_through_the_secret():
    run = run_program(
        "dev",
        overrides={
            "nacos": {
                "replicas": 1,
                "storage": {"type": "mysql", "mysql": {"host": "mysql.db.svc", "database": "nacos", "user": "nacos"}},
            }
        },
        secrets={"nacosMysqlPassword": "s3cret-mysql-pass"},
    )
    env = _env(_nacos_container(run))
    assert env["SPRING_DATASOURCE_PLATFORM"]["value"] == "mysql"
    assert env["MYSQL_SERVICE_HOST"]["value"] == "mysql.db.svc"
    assert env["MYSQL_SERVICE_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "nacos-auth", "key": "mysql-password"}
    assert "EMBEDDED_STORAGE" not in env
    assert run.one(SECRET, "nacos-auth").inputs["stringData"]["mysql-password"] == "s3cret-mysql-pass"


# ---------------------------------------------------------------- Higress


def test_higress_chart_is_the_pinned_official_chart_with_stack_values(stack_run):
    exp = EXPECTED[stack_run.stack]
    inputs = _higress_chart(stack_run).inputs
    if stack_run.stack == "dev":
        # the vendored copy of the same official chart (its Helm repository is out of reach here)
        assert inputs["chart"] == "../shared/vendor/higress-2.2.1/higress-core"
    else:
        assert inputs["chart"] == "higress-core"
        assert inputs["version"] == "2.2.1"
        assert inputs["repositoryOpts"]["repo"] == "https://higress.io/helm-charts"
    assert inputs["namespace"] == "higress-system"
    gateway = inputs["values"]["gateway"]
    assert gateway["replicas"] == exp["gateway_replicas"]
    assert gateway["resources"] == exp["gateway_resources"]
    assert inputs["values"]["global"]["enableRedis"] is True


def test_prod_gateway_spreads_across_nodes_with_metrics(dev_run, prod_run):
    prod_gateway = _higress_chart(prod_run).inputs["values"]["gateway"]
    spread = prod_gateway["topologySpreadConstraints"]
    assert any(c["topologyKey"] == "kubernetes.io/hostname" and c["whenUnsatisfiable"] == "DoNotSchedule" for c in spread)
    assert prod_gateway["metrics"]["enabled"] is True
    assert prod_gateway["service"]["type"] == "LoadBalancer"
    dev_gateway = _higress_chart(dev_run).inputs["values"]["gateway"]
    assert "topologySpreadConstraints" not in dev_gateway
    assert dev_gateway["service"]["type"] == "ClusterIP"


def test_mcp_bridge_discovers_every_tenant_namespace_with_groups_and_credentials(stack_run):
    exp = EXPECTED[stack_run.stack]
    bridges = stack_run.custom_resources("McpBridge")
    assert len(bridges) == 1
    bridge = bridges[0]
    assert bridge.inputs["apiVersion"] == "networking.higress.io/v1"
    assert bridge.inputs["metadata"]["name"] == "default"
    assert bridge.inputs["metadata"]["namespace"] == "higress-system"
    registries = bridge.inputs["spec"]["registries"]
    assert {r["nacosNamespaceId"] for r in registries} == {f"tenant-{t}" for t in exp["tenants"]}
    for r in registries:
        assert r["type"] == "nacos3"
        assert r["domain"] == "nacos.agent-runtime.svc.cluster.local"
        assert r["port"] == 8848
        assert r["nacosGroups"] == ["agents"]
        assert r["nacosRefreshInterval"] == 30 * 10**9
        assert r["authSecretName"] == "nacos-registry-credentials"
        assert r["enableMCPServer"] is True
    credentials = stack_run.one(SECRET, "nacos-registry-credentials", "higress-system")
    assert set(credentials.inputs["stringData"]) == {"nacosUsername", "nacosPassword"}
    assert "stringData" in credentials.secret_paths


def test_mcp_bridge_waits_for_the_chart_that_installs_its_crd(stack_run):
    bridge = stack_run.custom_resources("McpBridge")[0]
    chart = _higress_chart(stack_run)
    assert chart.urn in bridge.dependencies


# ---------------------------------------------------------------- tenants


def test_tenant_namespaces_carry_tier_and_restricted_pod_security(stack_run):
    exp = EXPECTED[stack_run.stack]
    for tenant, tier in exp["tenants"].items():
        ns = stack_run.one(NS, f"tenant-{tenant}").inputs["metadata"]["labels"]
        assert ns["agent-runtime.io/tenant"] == tenant
        assert ns["agent-runtime.io/tier"] == tier
        assert ns["pod-security.kubernetes.io/enforce"] == "restricted"


def test_tenant_quota_follows_the_tier_with_overrides(prod_run):
    quota = prod_run.one("kubernetes:core/v1:ResourceQuota", "tenant-quota", "tenant-research").inputs["spec"]["hard"]
    assert quota["pods"] == "150"  # override from Pulumi.prod.yaml
    assert quota["requests.cpu"] == "8"  # the standard tier
    assert quota["services.loadbalancers"] == "0"
    assert quota["services.nodeports"] == "0"
    free = prod_run.one("kubernetes:core/v1:ResourceQuota", "tenant-quota", "tenant-sandbox-lab").inputs["spec"]["hard"]
    assert free["requests.cpu"] == "2" and free["pods"] == "20"


def test_tenants_are_isolated_by_default(stack_run):
    for tenant in EXPECTED[stack_run.stack]["tenants"]:
        ns = f"tenant-{tenant}"
        deny = stack_run.one(NETPOL, "default-deny", ns).inputs["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = stack_run.one(NETPOL, "allow-dns", ns).inputs["spec"]
        assert {p["port"] for p in dns["egress"][0]["ports"]} == {53}
        gateway = stack_run.one(NETPOL, "allow-from-gateway", ns).inputs["spec"]
        assert gateway["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "higress-system"
        }
        # sandbox pods (untrusted tools) get neither the gateway's ingress nor Nacos egress
        not_sandbox = {"matchExpressions": [{"key": "agent-runtime.io/sandbox-profile", "operator": "DoesNotExist"}]}
        assert gateway["podSelector"] == not_sandbox
        assert stack_run.one(NETPOL, "allow-to-nacos", ns).inputs["spec"]["podSelector"] == not_sandbox
        nacos = stack_run.one(NETPOL, "allow-to-nacos", ns).inputs["spec"]["egress"][0]
        assert nacos["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "agent-runtime"}
        assert {p["port"] for p in nacos["ports"]} == {8848, 9848}
        limits = stack_run.one("kubernetes:core/v1:LimitRange", "tenant-limits", ns).inputs["spec"]["limits"][0]
        assert limits["type"] == "Container" and limits["default"] and limits["defaultRequest"] and limits["max"]


def test_tenant_rbac_is_namespace_scoped_and_narrow(stack_run):
    for tenant in EXPECTED[stack_run.stack]["tenants"]:
        ns = f"tenant-{tenant}"
        role = stack_run.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "tenant-agent", ns).inputs
        verbs = {v for rule in role["rules"] for v in rule["verbs"]}
        assert not verbs & {"*", "delete", "deletecollection", "escalate", "bind", "impersonate"}
        assert all("secrets" not in rule["resources"] for rule in role["rules"])
        binding = stack_run.one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "tenant-agent", ns).inputs
        assert binding["subjects"] == [
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccounts:{ns}"}
        ]
        assert binding["roleRef"]["kind"] == "Role"


# ---------------------------------------------------------------- outputs


def test_stack_outputs(stack_run):
    exp = EXPECTED[stack_run.stack]
    out = stack_run.outputs
    assert out["gatewayAddress"] == "higress-gateway.higress-system.svc.cluster.local:80"
    assert out["nacosAddress"] == "http://nacos.agent-runtime.svc.cluster.local:8848/nacos"
    assert out["tenantNamespaces"] == {t: f"tenant-{t}" for t in exp["tenants"]}
    assert out["tenantNacosNamespaces"] == {t: f"tenant-{t}" for t in exp["tenants"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_secret_value_leaks_into_a_non_secret_input(stack):
    run = run_program(stack, secrets={"nacosAdminPassword": "leak-canary-password-1"})
    for r in run.resources:
        if r.typ.startswith("random:"):
            continue
        text = repr({k: v for k, v in r.inputs.items() if k not in {p.split(".")[0] for p in r.secret_paths}})
        assert "leak-canary-password-1" not in text, f"{r.typ} {r.name} carries the admin password in plain inputs"
