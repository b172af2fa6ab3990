"""The message queue (components/message_queue.py) as the real program registers it under mocks:
the fixture prod stack runs it highly available (3 name servers, 2 groups x 2 brokers, 2 proxies);
a dev-shaped queue is the dev fixture stack with messageQueue enabled."""

from __future__ import annotations

import json

import pytest

from harness import FIXTURE_QUEUE_SECRETS, ProgramRun, run_program
from models.settings import MessageQueueSettings
from render import message_queue as mq
from testing import k8s_schema

NS = "rocketmq"
STS = "kubernetes:apps/v1:StatefulSet"
DEP = "kubernetes:apps/v1:Deployment"
SVC = "kubernetes:core/v1:Service"
CM = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PASSWORD = FIXTURE_QUEUE_SECRETS["messageQueueAdminPassword"]


@pytest.fixture(scope="module")
def dev_queue_run() -> ProgramRun:
    return run_program("dev", overrides={"messageQueue": {"enabled": True}})


def _queue(run: ProgramRun) -> list:
    return [r for r in run.resources if r.typ.startswith("kubernetes:") and
            (r.k8s_namespace == NS or (r.typ == "kubernetes:core/v1:Namespace" and r.k8s_name == NS))]


def _workloads(run: ProgramRun) -> list:
    return [r for r in _queue(run) if r.typ in (STS, DEP)]


def _pod(r) -> dict:
    return r.inputs["spec"]["template"]["spec"]


def test_disabled_queue_registers_nothing(dev_run):
    assert _queue(dev_run) == []
    assert "messageQueue" not in dev_run.outputs


def test_ha_shape_in_prod(prod_run):
    ns_sts = prod_run.one(STS, mq.NAMESRV, NS)
    assert ns_sts.inputs["spec"]["replicas"] == 3
    brokers = [prod_run.one(STS, mq.broker_statefulset_name(i), NS) for i in range(2)]
    assert [b.inputs["spec"]["replicas"] for b in brokers] == [2, 2]
    assert prod_run.one(DEP, mq.PROXY, NS).inputs["spec"]["replicas"] == 2
    # controller mode: embedded in the name servers, brokers point at them
    data = prod_run.one(CM, mq.CONFIG_MAP, NS).inputs["data"]
    assert "enableControllerInNamesrv=true" in data["namesrv.conf"]
    assert "controllerDLegerPeers=n0-rocketmq-namesrv-0.rocketmq-namesrv.rocketmq.svc:9878;n1-" in data["namesrv.conf"]
    for i in range(2):
        conf = data[f"broker-{i}.conf"]
        assert "enableControllerMode=true" in conf and f"brokerName=broker-{i}" in conf
        assert "controllerAddr=rocketmq-namesrv-0.rocketmq-namesrv.rocketmq.svc:9876;" in conf
        assert "brokerId=" not in conf  # the controller assigns it
    # each pod's identity: its own controller id at start, its own store volume
    assert 'controllerDLegerSelfId=n%s' in _pod(ns_sts)["containers"][0]["command"][2]
    for sts in (ns_sts, *brokers):
        claims = sts.inputs["spec"]["volumeClaimTemplates"]
        assert [c["metadata"]["name"] for c in claims] == ["store"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_ha_disruption_budgets_and_anti_affinity(prod_run):
    budgets = {r.k8s_name: r.inputs["spec"] for r in prod_run.of_type(PDB) if r.k8s_namespace == NS}
    assert budgets[mq.NAMESRV]["minAvailable"] == 2  # a majority of 3
    assert budgets["rocketmq-broker-0"]["maxUnavailable"] == 1 and budgets["rocketmq-broker-1"]["maxUnavailable"] == 1
    assert budgets["rocketmq-broker-0"]["selector"]["matchLabels"][mq.LABEL_BROKER_GROUP] == "broker-0"
    assert budgets[mq.PROXY]["minAvailable"] == 1
    for r in _workloads(prod_run):
        anti = _pod(r)["affinity"]["podAntiAffinity"]
        [term] = anti["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"] == r.inputs["spec"]["selector"]["matchLabels"]


def test_dev_shape(dev_queue_run):
    run = dev_queue_run
    assert run.one(STS, mq.NAMESRV, NS).inputs["spec"]["replicas"] == 1
    broker = run.one(STS, "rocketmq-broker-0", NS)
    assert broker.inputs["spec"]["replicas"] == 1
    assert broker.inputs["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert "volumeClaimTemplates" not in run.one(STS, mq.NAMESRV, NS).inputs["spec"]
    data = run.one(CM, mq.CONFIG_MAP, NS).inputs["data"]
    assert "brokerId=0\nbrokerRole=ASYNC_MASTER" in data["broker-0.conf"] and "enableControllerMode" not in data["broker-0.conf"]
    assert "enableControllerInNamesrv" not in data["namesrv.conf"]
    proxy = json.loads(data["rmq-proxy.json"])
    assert proxy["proxyMode"] == "cluster" and proxy["enableAclRpcHookForClusterMode"] is True
    assert "-pm cluster" in _pod(run.one(DEP, mq.PROXY, NS))["containers"][0]["command"][2]
    assert [r for r in run.of_type(PDB) if r.k8s_namespace == NS] == []  # single pods: no budget to block drains
    for r in _workloads(run):
        assert "preferredDuringSchedulingIgnoredDuringExecution" in _pod(r)["affinity"]["podAntiAffinity"]
    assert run.outputs["messageQueue"] == {
        "proxyEndpoint": "rocketmq-proxy.rocketmq.svc:8081",
        "namesrvAddress": "rocketmq-namesrv-0.rocketmq-namesrv.rocketmq.svc:9876",
    }


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pods_are_restricted(stack, dev_queue_run, prod_run):
    run = {"dev": dev_queue_run, "prod": prod_run}[stack]
    s = MessageQueueSettings()
    workloads = _workloads(run)
    assert len(workloads) == (3 if stack == "dev" else 4)
    for r in workloads:
        pod = _pod(r)
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 3000
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        [c] = pod["containers"]
        ctx = c["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]} and ctx["runAsUser"] == 3000
        assert c["image"] == s.image
        role = {"namesrv": s.name_server, "broker": s.broker, "proxy": s.proxy}[c["name"]]
        assert c["resources"]["limits"] == {"cpu": role.resources.limits.cpu, "memory": role.resources.limits.memory}
        heap = {e["name"]: e.get("value") for e in c["env"]}["HEAP_OPTS"]
        assert heap.startswith(f"-Xms{role.heap} -Xmx{role.heap}")
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert {mq.LOGS_DIR, "/tmp", mq.RUN_DIR, mq.CONF_DIR} <= mounts
    ns = run.one("kubernetes:core/v1:Namespace", NS)
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_password_is_only_in_the_secret(stack, dev_queue_run, prod_run):
    run = {"dev": dev_queue_run, "prod": prod_run}[stack]
    secret = run.one(SECRET, mq.ADMIN_SECRET, NS)
    assert secret.secret_paths, "the Secret's data must be a Pulumi secret"
    assert PASSWORD in secret.inputs["stringData"][mq.BROKER_SECRET_KEY]
    assert json.loads(json.loads("{" + secret.inputs["stringData"][mq.PROXY_SECRET_KEY] + "}")[
        "innerClientAuthenticationCredentials"]) == {"accessKey": "rocketmq-admin", "secretKey": PASSWORD}
    for r in run.resources:
        if r is secret or r.typ.startswith("pulumi:"):
            continue
        assert PASSWORD not in json.dumps(r.inputs), f"{r.typ} {r.name} carries the queue's admin password"
    # the pods read it as files, only the brokers and proxies, and from this Secret
    for r in _workloads(run):
        secret_volumes = [v for v in _pod(r)["volumes"] if "secret" in v]
        if r.k8s_name == mq.NAMESRV:
            assert secret_volumes == []
        else:
            assert [v["secret"]["secretName"] for v in secret_volumes] == [mq.ADMIN_SECRET]
        for e in _pod(r)["containers"][0]["env"]:
            assert "secretKeyRef" not in e.get("valueFrom", {})


def test_network_policies_admit_only_agents_from_outside(prod_run):
    policies = {r.k8s_name: r.inputs["spec"] for r in prod_run.of_type(NETPOL) if r.k8s_namespace == NS}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    agents = {
        "namespaceSelector": {"matchExpressions": [{"key": "agent-runtime.io/tenant", "operator": "Exists"}]},
        "podSelector": {"matchExpressions": [{"key": "agent-runtime.io/agent", "operator": "Exists"}]},
    }
    outside = []
    for name, spec in policies.items():
        for rule in spec.get("ingress", []):
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer or "ipBlock" in peer:
                    outside.append((name, peer, sorted(p["port"] for p in rule["ports"])))
    assert outside == [
        ("rocketmq-proxy-from-agents", agents, [8080, 8081]),
        ("rocketmq-broker-from-agents", agents, [10911]),
        ("rocketmq-namesrv-from-agents", agents, [9876]),
    ]
    internal = policies["rocketmq-internal"]
    assert internal["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rocketmq"}}}]}]
    assert internal["egress"][1] == {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rocketmq"}}}]}


def test_every_queue_object_passes_the_kubernetes_schemas(dev_queue_run, prod_run):
    checked, errors = set(), []
    for run in (dev_queue_run, prod_run):
        for r in _queue(run):
            obj = k8s_schema.pulumi_resource_to_object(r.typ, r.name, r.inputs)
            if obj is None:
                continue
            checked.add(obj["kind"])
            errors += k8s_schema.validate_object(obj)
    assert not errors, "\n".join(errors)
    assert {"Namespace", "ConfigMap", "Secret", "ServiceAccount", "StatefulSet", "Deployment", "Service",
            "PodDisruptionBudget", "NetworkPolicy"} <= checked


def test_component_outputs_and_parenting(prod_run):
    [component] = prod_run.of_type("agent-runtime:platform:MessageQueue")
    for r in _queue(prod_run):
        assert r.parent == component.urn, r.name
    assert prod_run.outputs["messageQueue"]["proxyEndpoint"] == "rocketmq-proxy.rocketmq.svc:8081"
    assert prod_run.outputs["messageQueue"]["namesrvAddress"].count(";") == 2
    s = MessageQueueSettings(enabled=True, broker_groups=2, replicas_per_group=2, name_servers=3)
    assert mq.broker_addresses(s) == [
        f"rocketmq-broker-{g}-{r}.rocketmq-broker-{g}.rocketmq.svc:10911" for g in range(2) for r in range(2)
    ]


def test_prod_queue_passes_every_policy(prod_run):
    from policy_cases import support as S

    queue_urns = {r.urn for r in _queue(prod_run)}
    found = [v for v in S.run_direct(S.from_registered(prod_run.resources), env="prod") if v.urn in queue_urns]
    assert found == [], [v.message for v in found]
