"""Deliberately bad resources: each must be caught by its policy with the expected message.

Every case starts from `full_bundle()` (Nacos, Higress, a tenant, a compliant agent
with routes, auth plugins, an AgentCard and a sandbox template - which passes every
policy, see test_bundle_is_compliant) and breaks one thing.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policy_cases import resources as R  # noqa: E402
from policy_cases import support as S  # noqa: E402
from pulumi_policy import EnforcementLevel  # noqa: E402

DEP = f"{R.AGENT}-deployment"
TPL = "code-runner-template"
STS = "nacos-statefulset"


@dataclass
class Case:
    id: str
    policy: str
    build: Callable[[], list]
    expect: str
    culprit: str  # Pulumi name of the resource the violation must point at
    env: str = "prod"


def change(name: str, fn: Callable[[dict], None]) -> Callable[[], list]:
    return lambda: R.mutate(name, fn, R.full_bundle())


def remove(*names: str) -> Callable[[], list]:
    return lambda: R.without(*names, resources=R.full_bundle())


def add(*extra) -> Callable[[], list]:
    return lambda: R.full_bundle() + [copy.deepcopy(e) for e in extra]


def set_ctx(key, value, name=DEP):
    return change(name, lambda p: R.container(p)["securityContext"].__setitem__(key, value))


def set_pod(key, value, name=DEP):
    return change(name, lambda p: R.pod_spec(p).__setitem__(key, value))


def set_container(key, value, name=DEP):
    return change(name, lambda p: R.container(p).__setitem__(key, value))


def add_env(var: dict, name=DEP):
    return change(name, lambda p: R.container(p)["env"].append(var))


def pop(path: list, name: str):
    def fn(p):
        cur = p
        for step in path[:-1]:
            cur = cur[step]
        cur.pop(path[-1])

    return change(name, fn)


def sidecar(**overrides):
    c = R.agent_container("sidecar")
    c.update(overrides)
    return change(DEP, lambda p: R.pod_spec(p)["containers"].append(c))


def init_container(**overrides):
    c = R.agent_container("init")
    for k in ("readinessProbe", "livenessProbe", "ports"):
        c.pop(k)
    c.update(overrides)
    return change(DEP, lambda p: R.pod_spec(p).setdefault("initContainers", []).append(c))


LB_SERVICE = R.res(
    "kubernetes:core/v1:Service",
    "agent-lb",
    {
        "metadata": {"name": "order-assistant-lb", "namespace": R.TENANT_NS, "labels": R.std_labels("x", "agent")},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 80.0}]},
    },
)
SECRET_CM = R.res(
    "kubernetes:core/v1:ConfigMap",
    "leaky-config",
    {"metadata": {"name": "leaky", "namespace": R.TENANT_NS, "labels": R.std_labels("x", "agent")}, "data": {"OPENAI_API_KEY": "not-a-placeholder-value"}},
)
PATTERN_CM = R.res(
    "kubernetes:core/v1:ConfigMap",
    "pattern-config",
    {"metadata": {"name": "pattern", "namespace": R.TENANT_NS, "labels": R.std_labels("x", "agent")}, "data": {"notes": "use sk-ant-abcdefghijklmnopqrstuvwxyz0123 for tests"}},
)
EMBEDDED_CM = R.res(
    "kubernetes:core/v1:ConfigMap",
    "embedded-config",
    {"metadata": {"name": "embedded", "namespace": R.TENANT_NS, "labels": R.std_labels("x", "agent")}, "data": {"app.yaml": "db:\n  password: hunter2hunter2\n"}},
)
BAD_RUNTIMECLASS = R.res(
    "kubernetes:node.k8s.io/v1:RuntimeClass", "kata-fake", {"metadata": {"name": "kata-fc", "labels": R.std_labels("kata", "runtime")}, "handler": "runc"}
)
ORPHAN_CARD = R.res(
    "pulumi-python:dynamic:Resource",
    "ghost-agent-card",
    {"registryKind": "AgentCard", "agentName": "ghost", "namespaceId": "tenant-retail", "card": {"name": "ghost"}},
)
NO_LABELS_CM = R.res(
    "kubernetes:core/v1:ConfigMap", "unlabelled-config", {"metadata": {"name": "unlabelled", "namespace": R.TENANT_NS}, "data": {"a": "b"}}
)
SANDBOX_DEPLOYMENT = R.res(
    "kubernetes:apps/v1:Deployment",
    "adhoc-sandbox",
    {
        "metadata": {"name": "adhoc-sandbox", "namespace": "sandboxes", "labels": R.std_labels("adhoc", "sandbox")},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "adhoc"}},
            "template": {
                "metadata": {"labels": R.std_labels("adhoc", "sandbox")},
                "spec": {
                    "runtimeClassName": "gvisor",
                    "automountServiceAccountToken": False,
                    "securityContext": copy.deepcopy(R.POD_CTX),
                    "containers": [
                        {"name": "runner", "image": "registry.example.com/sandbox/runner:1.0.0", "resources": copy.deepcopy(R.RESOURCES), "securityContext": copy.deepcopy(R.RESTRICTED_CTX)}
                    ],
                },
            },
        },
    },
)


def _second_ingress(kind_label, path, name="order-assistant-extra"):
    def build():
        resources = R.full_bundle()
        ing = copy.deepcopy(R.find(resources, f"{R.AGENT}-public-route"))
        ing.name = name
        ing.urn = S.urn(ing.type, name)
        ing.props["metadata"]["name"] = name
        if kind_label is None:
            ing.props["metadata"]["labels"].pop("agent-runtime.io/route-kind")
        else:
            ing.props["metadata"]["labels"]["agent-runtime.io/route-kind"] = kind_label
        ing.props["spec"]["rules"][0]["http"]["paths"][0]["path"] = path
        return resources + [ing]

    return build


def _sensitive_naming(*agents: str):
    """Make the bundle's A2A skill sensitive, naming only `agents` as callers."""

    def fn(p):
        p["metadata"]["annotations"].update({
            "agent-runtime.io/a2a-sensitive": "true",
            "agent-runtime.io/a2a-allow-tenants": "",
            "agent-runtime.io/a2a-allow-agents": ",".join(agents),
        })

    return fn


AGENT_WIDE = f"{R.AGENT}-a2a-agent-wide-route"


def _agent_wide_allows(*consumers: str):
    """A first internal jwt-auth rule for the bundle's agent-wide A2A route, with its own allow list."""

    def fn(p):
        p["spec"]["matchRules"].insert(0, {"ingress": [f"{R.TENANT_NS}/{R.AGENT}-a2a-agent-wide"], "config": {"allow": list(consumers)}})

    return fn


def _disable_public_rule(p):
    p["spec"]["matchRules"].insert(0, {"ingress": [f"{R.TENANT_NS}/{R.AGENT}-chat"], "configDisable": True})


CASES = [
    # pod security
    Case("privileged", "no-privileged-containers", set_ctx("privileged", True), "runs privileged", DEP),
    Case("privilege-escalation", "no-privileged-containers", set_ctx("allowPrivilegeEscalation", True), "allowPrivilegeEscalation: false", DEP),
    Case("privileged-sandbox", "no-privileged-containers", set_ctx("privileged", True, TPL), "container 'runner' runs privileged", TPL),
    Case("host-network", "no-host-namespaces", set_pod("hostNetwork", True), "hostNetwork: true", DEP),
    Case("host-pid", "no-host-namespaces", set_pod("hostPID", True), "hostPID: true", DEP),
    Case("host-port", "no-host-namespaces", set_container("ports", [{"containerPort": 8080.0, "hostPort": 8080.0}]), "binds hostPort 8080", DEP),
    Case(
        "host-path",
        "no-host-path-volumes",
        change(DEP, lambda p: R.pod_spec(p)["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})),
        "mounts hostPath '/var/run/docker.sock'",
        DEP,
    ),
    Case("run-as-root-flag", "containers-run-as-non-root", change(DEP, lambda p: (R.pod_spec(p)["securityContext"].pop("runAsNonRoot"), R.container(p)["securityContext"].pop("runAsNonRoot"))), "may run as root", DEP),
    Case("run-as-uid-0", "containers-run-as-non-root", set_ctx("runAsUser", 0.0), "runAsUser: 0", DEP),
    Case("nacos-root", "containers-run-as-non-root", set_ctx("runAsNonRoot", False, STS), "container 'nacos' may run as root", STS),
    Case("writable-root", "read-only-root-filesystem", set_ctx("readOnlyRootFilesystem", False), "writable root filesystem", DEP),
    Case("writable-init", "read-only-root-filesystem", init_container(securityContext={**R.RESTRICTED_CTX, "readOnlyRootFilesystem": False}), "init container 'init' has a writable root", DEP),
    Case("caps-not-dropped", "drop-all-capabilities", set_ctx("capabilities", {"drop": ["NET_RAW"]}), "does not drop all Linux capabilities", DEP),
    Case("caps-added", "drop-all-capabilities", set_ctx("capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "adds capabilities ['SYS_ADMIN']", DEP),
    Case("no-limits", "container-resources-required", set_container("resources", {"requests": {"cpu": "100m", "memory": "1Gi"}}), "resources.limits.cpu, resources.limits.memory", DEP),
    Case("no-resources-sandbox", "container-resources-required", change(TPL, lambda p: R.container(p).pop("resources")), "container 'runner' has no resources.requests.cpu", TPL),
    Case("latest", "images-pinned", set_container("image", "registry.example.com/agents/order-assistant:latest"), "mutable 'latest' tag", DEP),
    Case("untagged", "images-pinned", set_container("image", "registry.example.com:5000/agents/order-assistant"), "has no tag", DEP),
    Case("nacos-untagged", "images-pinned", set_container("image", "nacos/nacos-server", STS), "image 'nacos/nacos-server' has no tag", STS),
    Case("tag-where-digests-are-required", "images-pinned", lambda: R.full_bundle(), "is not pinned by digest, and this profile requires digests", DEP,
         env="digests"),
    Case("token-mounted-without-a-role", "service-account-token-only-where-needed", set_pod("automountServiceAccountToken", True),
         f"pods mount a service-account token (account '{R.AGENT}') but no RoleBinding", DEP),
    Case("token-by-account-default", "service-account-token-only-where-needed",
         change(STS, lambda p: R.pod_spec(p).pop("automountServiceAccountToken")),
         "(account 'default') but no RoleBinding", STS),
    Case("credential-in-env", "agent-credentials-as-files",
         change(DEP, lambda p: R.container(p)["env"].append({"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "model-credentials", "key": "openai"}}})),
         "takes credentials through the environment (OPENAI_API_KEY)", DEP),
    Case("credentials-envfrom", "agent-credentials-as-files",
         change(DEP, lambda p: R.container(p).__setitem__("envFrom", [{"secretRef": {"name": "model-credentials"}}])),
         "envFrom secretRef", DEP),
    # secrets
    Case("cm-secret-key", "no-secrets-in-configmaps", add(SECRET_CM), "data key 'OPENAI_API_KEY' looks like a credential", "leaky-config"),
    Case("cm-secret-pattern", "no-secrets-in-configmaps", add(PATTERN_CM), "contains an OpenAI/Anthropic-style API key", "pattern-config"),
    Case("cm-embedded-password", "no-secrets-in-configmaps", add(EMBEDDED_CM), "embeds a literal 'password' setting", "embedded-config"),
    Case("env-literal-key", "no-literal-secret-env", add_env({"name": "ANTHROPIC_API_KEY", "value": "abc123def456"}), "env ANTHROPIC_API_KEY to a literal value", DEP),
    Case("env-literal-token", "no-literal-secret-env", add_env({"name": "NACOS_AUTH_TOKEN", "value": "c2VjcmV0c2VjcmV0"}, STS), "env NACOS_AUTH_TOKEN to a literal", STS),
    Case("env-pattern", "no-literal-secret-env", add_env({"name": "GITHUB", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}), "holds a GitHub token", DEP),
    # agents
    Case("no-readiness", "agent-probes-required", pop(["spec", "template", "spec", "containers", 0, "readinessProbe"], DEP), "has no readinessProbe", DEP),
    Case("sidecar-no-probes", "agent-probes-required", sidecar(readinessProbe=None, livenessProbe=None), "container 'sidecar' has no readinessProbe and no livenessProbe", DEP),
    Case("no-pdb", "agent-disruption-budget-required", remove(f"{R.AGENT}-pdb"), "no PodDisruptionBudget selecting its pods", DEP),
    Case(
        "pdb-wrong-selector",
        "agent-disruption-budget-required",
        change(f"{R.AGENT}-pdb", lambda p: p["spec"]["selector"]["matchLabels"].__setitem__("app.kubernetes.io/name", "other")),
        "no PodDisruptionBudget",
        DEP,
    ),
    Case("no-autoscaler", "agent-autoscaler-required", remove(f"{R.AGENT}-hpa"), "has no autoscaler", DEP),
    Case(
        "hpa-wrong-target",
        "agent-autoscaler-required",
        change(f"{R.AGENT}-hpa", lambda p: p["spec"]["scaleTargetRef"].__setitem__("name", "someone-else")),
        "name order-assistant",
        DEP,
    ),
    Case("no-spread", "agent-topology-spread", pop(["spec", "template", "spec", "topologySpreadConstraints"], DEP), "topologySpreadConstraints or podAntiAffinity", DEP),
    # sandboxes
    Case("sandbox-runc", "sandbox-runtime-class-allowed", set_pod("runtimeClassName", "runc", TPL), "runtimeClassName 'runc'", TPL),
    Case("sandbox-no-runtimeclass", "sandbox-runtime-class-allowed", change(TPL, lambda p: R.pod_spec(p).pop("runtimeClassName")), "runtimeClassName None", TPL),
    Case("fake-kata-class", "sandbox-runtime-class-allowed", add(BAD_RUNTIMECLASS), "maps to handler 'runc'", "kata-fake"),
    Case(
        "sandbox-unmanaged-no-netpol",
        "sandbox-network-policy-required",
        lambda: R.without(f"{R.TENANT_NS}-default-deny", resources=R.mutate(TPL, lambda p: p["spec"].__setitem__("networkPolicyManagement", "Unmanaged"), R.full_bundle())),
        "not selected by any NetworkPolicy restricting Egress and Ingress",
        TPL,
    ),
    Case("sandbox-deployment-no-netpol", "sandbox-network-policy-required", add(SANDBOX_DEPLOYMENT), "sandbox pods are not selected", "adhoc-sandbox"),
    # tenants
    Case("tenant-no-quota", "tenant-namespace-guardrails", remove(f"{R.TENANT_NS}-quota"), "has no ResourceQuota", f"{R.TENANT_NS}-ns"),
    Case(
        "tenant-quota-no-memory",
        "tenant-namespace-guardrails",
        change(f"{R.TENANT_NS}-quota", lambda p: p["spec"]["hard"].pop("limits.memory")),
        "does not cap ['limits.memory']",
        f"{R.TENANT_NS}-ns",
    ),
    Case("tenant-no-limits", "tenant-namespace-guardrails", remove(f"{R.TENANT_NS}-limits"), "no LimitRange", f"{R.TENANT_NS}-ns"),
    Case("tenant-no-deny", "tenant-namespace-guardrails", remove(f"{R.TENANT_NS}-default-deny"), "no default-deny NetworkPolicy for Egress and Ingress", f"{R.TENANT_NS}-ns"),
    Case(
        "tenant-deny-ingress-only",
        "tenant-namespace-guardrails",
        change(f"{R.TENANT_NS}-default-deny", lambda p: p["spec"].__setitem__("policyTypes", ["Ingress"])),
        "default-deny NetworkPolicy for Egress",
        f"{R.TENANT_NS}-ns",
    ),
    # services
    Case("tenant-loadbalancer", "no-loadbalancer-services", add(LB_SERVICE), "Service type LoadBalancer", "agent-lb"),
    # routes and auth
    Case("public-route-unprotected", "public-routes-require-jwt", remove("jwt-auth-public"), "public gateway route tenant-retail/order-assistant-chat is not covered", f"{R.AGENT}-public-route"),
    Case("public-route-disabled", "public-routes-require-jwt", change("jwt-auth-public", _disable_public_rule), "is not covered", f"{R.AGENT}-public-route"),
    Case(
        "public-route-internal-plugin-only",
        "public-routes-require-jwt",
        change("jwt-auth-public", lambda p: p["metadata"]["labels"].__setitem__("agent-runtime.io/auth", "internal")),
        "agent-runtime.io/auth: public",
        f"{R.AGENT}-public-route",
    ),
    Case("unlabelled-route-is-public", "public-routes-require-jwt", _second_ingress(None, "/api/v1/agents/order-assistant/other"), "public gateway route tenant-retail/order-assistant-extra", "order-assistant-extra"),
    Case("a2a-route-unprotected", "a2a-routes-require-internal-auth", remove("jwt-auth-internal"), "a2a gateway route tenant-retail/order-assistant-a2a is not covered", f"{R.AGENT}-a2a-route"),
    Case(
        "a2a-path-labelled-public",
        "a2a-routes-require-internal-auth",
        _second_ingress("public", "/api/v1/internal/a2a/order-assistant/refund"),
        "a2a gateway route tenant-retail/order-assistant-extra",
        "order-assistant-extra",
    ),
    Case(
        "plugin-wrong-namespace",
        "gateway-auth-plugins-well-formed",
        change("jwt-auth-public", lambda p: p["metadata"].__setitem__("namespace", R.TENANT_NS)),
        "only reads WasmPlugins in 'higress-system'",
        "jwt-auth-public",
    ),
    Case("plugin-fail-open", "gateway-auth-plugins-well-formed", change("jwt-auth-public", lambda p: p["spec"].__setitem__("failStrategy", "FAIL_OPEN")), "FAIL_OPEN", "jwt-auth-public"),
    Case(
        "plugin-unpinned",
        "gateway-auth-plugins-well-formed",
        change("jwt-auth-internal", lambda p: p["spec"].__setitem__("url", "oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/jwt-auth:latest")),
        "is not pinned",
        "jwt-auth-internal",
    ),
    Case(
        "plugin-no-auth-label",
        "gateway-auth-plugins-well-formed",
        change("jwt-auth-internal", lambda p: p["metadata"]["labels"].pop("agent-runtime.io/auth")),
        "lacks label agent-runtime.io/auth",
        "jwt-auth-internal",
    ),
    # A2A skills: the gateway's allow list against the skill's rule, and a timeout on every A2A route
    Case(
        "a2a-cross-tenant-not-allowed",
        "a2a-skill-access-respected",
        change(f"{R.AGENT}-a2a-route", lambda p: p["metadata"]["annotations"].__setitem__("agent-runtime.io/a2a-allow-tenants", "")),
        "lets agent:research/analyst call skill 'refund-v1' of tenant 'retail', but research/analyst is in tenant 'research'",
        f"{R.AGENT}-a2a-route",
    ),
    Case(
        "a2a-sensitive-caller-not-named",
        "a2a-skill-access-respected",
        change(f"{R.AGENT}-a2a-route", _sensitive_naming("research/analyst")),
        "retail/orchestrator may call a sensitive skill only if agent-runtime.io/a2a-allow-agents names it",
        f"{R.AGENT}-a2a-route",
    ),
    Case(
        "a2a-rule-missing-means-own-tenant",
        "a2a-skill-access-respected",
        change(f"{R.AGENT}-a2a-route", lambda p: p["metadata"].__setitem__("annotations", {"higress.io/timeout": "120"})),
        "research/analyst is in tenant 'research'",
        f"{R.AGENT}-a2a-route",
    ),
    Case(
        "a2a-consumer-not-an-agent",
        "a2a-skill-access-respected",
        change("jwt-auth-internal", lambda p: p["spec"]["matchRules"][0]["config"]["allow"].append("corp-idp")),
        "consumer 'corp-idp' is not an agent identity",
        f"{R.AGENT}-a2a-route",
    ),
    Case(
        "a2a-agent-wide-wider-than-a-skill",
        "a2a-skill-access-respected",
        change("jwt-auth-internal", _agent_wide_allows("agent:retail/orchestrator", "agent:research/analyst", "agent:retail/clerk")),
        "lets agent:retail/clerk call every skill of agent 'order-assistant' (tenant 'retail'), including 'refund-v1', "
        "but the allow list of skill route tenant-retail/order-assistant-a2a does not name it",
        AGENT_WIDE,
    ),
    Case(
        "a2a-agent-wide-beyond-a-skill-rule",
        "a2a-skill-access-respected",
        change(AGENT_WIDE, lambda p: p["metadata"]["annotations"].__setitem__("agent-runtime.io/a2a-skills", "refund-v1,audit")),
        "lets ['agent:research/analyst', 'agent:retail/orchestrator'] call skill 'audit', which has no A2A route of its own",
        AGENT_WIDE,
    ),
    Case(
        "a2a-agent-wide-skips-a-card-skill",
        "a2a-skill-access-respected",
        change(f"{R.AGENT}-agent-card", lambda p: p["card"]["skills"].append({"id": "payroll"})),
        "its agent-runtime.io/a2a-skills does not name ['payroll'], which the agent's AgentCard advertises",
        AGENT_WIDE,
    ),
    Case(
        "a2a-agent-wide-no-timeout",
        "a2a-route-timeout",
        change(AGENT_WIDE, lambda p: p["metadata"]["annotations"].pop("higress.io/timeout")),
        "A2A route has no positive higress.io/timeout (got None)",
        AGENT_WIDE,
    ),
    Case(
        "a2a-route-no-timeout",
        "a2a-route-timeout",
        change(f"{R.AGENT}-a2a-route", lambda p: p["metadata"]["annotations"].pop("higress.io/timeout")),
        "A2A route has no positive higress.io/timeout (got None)",
        f"{R.AGENT}-a2a-route",
    ),
    Case(
        "a2a-route-zero-timeout",
        "a2a-route-timeout",
        change(f"{R.AGENT}-a2a-route", lambda p: p["metadata"]["annotations"].__setitem__("higress.io/timeout", "0")),
        "(got '0')",
        f"{R.AGENT}-a2a-route",
        env="dev",
    ),
    # registry vs routes
    Case("card-without-route", "registry-routes-consistent", add(ORPHAN_CARD), "agent 'ghost'", "ghost-agent-card"),
    Case("route-without-card", "registry-routes-consistent", lambda: R.without(f"{R.AGENT}-agent-card", resources=R.full_bundle() + [ORPHAN_CARD]), "route for agent 'order-assistant' has no AgentCard", f"{R.AGENT}-public-route"),
    Case(
        "route-without-agent-label",
        "registry-routes-consistent",
        change(f"{R.AGENT}-a2a-route", lambda p: p["metadata"]["labels"].pop("agent-runtime.io/agent")),
        "agent route has no agent-runtime.io/agent label",
        f"{R.AGENT}-a2a-route",
    ),
    # the message queue (RocketMQ)
    Case("queue-broker-acl-off", "message-queue-acl",
         change("mq-config", lambda p: p["data"].__setitem__("broker-1.conf", p["data"]["broker-1.conf"].replace("authorizationEnabled=true", "authorizationEnabled=false"))),
         "broker file 'broker-1.conf' does not set authorizationEnabled=true", "mq-config"),
    Case("queue-proxy-acl-off", "message-queue-acl",
         change("mq-config", lambda p: p["data"].__setitem__("rmq-proxy.json", p["data"]["rmq-proxy.json"].replace('"authenticationEnabled": true', '"authenticationEnabled": false'))),
         "rmq-proxy.json does not set authenticationEnabled: true", "mq-config"),
    Case("queue-single-broker-prod", "message-queue-replicated",
         change("mq-broker-0", lambda p: p["spec"].__setitem__("replicas", 1.0)), "broker group of 1 broker(s) in prod", "mq-broker-0"),
    Case("queue-no-controller-mode", "message-queue-replicated",
         change("mq-config", lambda p: p["data"].__setitem__("broker-0.conf", p["data"]["broker-0.conf"].replace("enableControllerMode=true", ""))),
         "without enableControllerMode=true", "mq-broker-0"),
    Case("queue-two-name-servers", "message-queue-replicated",
         change("mq-namesrv", lambda p: p["spec"].__setitem__("replicas", 2.0)), "2 name server(s) in prod", "mq-namesrv"),
    # Nacos and Higress
    Case("nacos-one-replica-prod", "nacos-replicas", lambda: R.platform_resources(replicas=1) + R.agent_bundle(), "at least 3 are required", STS),
    Case("nacos-auth-off", "nacos-auth-enabled", change(STS, lambda p: R.container(p)["env"].__setitem__(1, {"name": "NACOS_AUTH_ENABLE", "value": "false"})), "does not set NACOS_AUTH_ENABLE=true", STS),
    Case(
        "nacos-token-not-secret",
        "nacos-auth-enabled",
        change(STS, lambda p: R.container(p)["env"].__setitem__(2, {"name": "NACOS_AUTH_TOKEN", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "t"}}})),
        "does not take NACOS_AUTH_TOKEN from a Secret",
        STS,
    ),
    Case("nacos-auth-in-dev-too", "nacos-auth-enabled", change(STS, lambda p: R.container(p)["env"].pop(1)), "NACOS_AUTH_ENABLE=true", STS, env="dev"),
    Case("nacos-no-pdb-prod", "nacos-disruption-budget", remove("nacos-pdb"), "Nacos has no PodDisruptionBudget in prod", STS),
    Case("nacos-pdb-breaks-quorum", "nacos-disruption-budget", change("nacos-pdb", lambda p: p["spec"].__setitem__("maxUnavailable", "67%")), "quorum of 2/3", STS),
    Case("nacos-old-image", "nacos-image-supported", set_container("image", "nacos/nacos-server:v2.4.3", STS), "outside the supported range", STS),
    Case("nacos-foreign-image", "nacos-image-supported", set_container("image", "example.com/forks/nacos-server:v3.1.1", STS), "not the supported Nacos image", STS),
    Case("gateway-two-replicas-prod", "gateway-replicas", change("higress-chart", lambda p: p["values"]["gateway"].__setitem__("replicas", 2.0)), "2 gateway replica(s)", "higress-chart"),
    Case("gateway-default-replicas-prod", "gateway-replicas", change("higress-chart", lambda p: p["values"]["gateway"].pop("replicas")), "2 gateway replica(s)", "higress-chart"),
    Case(
        "gateway-umbrella-local",
        "gateway-replicas",
        change("higress-chart", lambda p: (p.__setitem__("chart", "higress"), p.__setitem__("values", {"higress-core": {"global": {"local": True}, "gateway": {"replicas": 3.0}}}))),
        "global.local: true",
        "higress-chart",
    ),
    Case("higress-chart-too-old", "higress-chart-supported", change("higress-chart", lambda p: p.__setitem__("version", "2.0.7")), "'2.0.7' is outside the supported range", "higress-chart"),
    Case("higress-chart-v3", "higress-chart-supported", change("higress-chart", lambda p: p.__setitem__("version", "3.0.0")), "outside the supported range '>=2.1.0 <3.0.0'", "higress-chart"),
    Case("higress-chart-unpinned", "higress-chart-supported", change("higress-chart", lambda p: p.pop("version")), "has no pinned version", "higress-chart"),
    Case(
        "mcpbridge-empty-groups",
        "mcp-bridge-discovery",
        change("higress-mcpbridge", lambda p: p["spec"]["registries"][0].__setitem__("nacosGroups", [])),
        "empty list makes Higress discover nothing",
        "higress-mcpbridge",
    ),
    Case("mcpbridge-wrong-name", "mcp-bridge-discovery", change("higress-mcpbridge", lambda p: p["metadata"].__setitem__("name", "agents")), "reads only the McpBridge named 'default'", "higress-mcpbridge"),
    # the queue: a credential reaches only its own topics, and those whose acceptsFrom names it
    Case(
        "queue-user-consumes-other-tenants-tasks",
        "queue-acl-tenant-isolation",
        change(f"{R.AGENT}-queue-user", lambda p: p["entries"].append({"resource": f"Topic:{R.ASYNC_TASKS}", "actions": ["Sub"], "decision": "Allow"})),
        "another tenant's topic 'research_summarizer_tasks_summarize-v1'",
        f"{R.AGENT}-queue-user",
    ),
    Case(
        "queue-topic-does-not-accept-caller",
        "queue-acl-tenant-isolation",
        change("summarizer-tasks", lambda p: p.__setitem__("acceptsFrom", ["research/analyst"])),
        "does not accept retail/",
        f"{R.AGENT}-queue-user",
    ),
    Case(
        "queue-wildcard-acl",
        "queue-acl-tenant-isolation",
        change(f"{R.AGENT}-queue-user", lambda p: p["entries"].append({"resource": "Topic:research_*", "actions": ["Pub"], "decision": "Allow"})),
        "no wildcard",
        f"{R.AGENT}-queue-user",
    ),
    Case(
        "queue-acl-undeclared-topic",
        "queue-acl-tenant-isolation",
        change(f"{R.AGENT}-queue-user", lambda p: p["entries"].append({"resource": "Topic:somebody_else", "actions": ["Pub"], "decision": "Allow"})),
        "which this stack does not declare",
        f"{R.AGENT}-queue-user",
    ),
    Case(
        "queue-reads-other-agents-dead-letters",
        "queue-acl-tenant-isolation",
        change(f"{R.AGENT}-queue-user", lambda p: p["entries"].append({"resource": "Topic:%DLQ%research_summarizer_workers", "actions": ["Sub"], "decision": "Allow"})),
        "group 'research_summarizer_workers'",
        f"{R.AGENT}-queue-user",
    ),
    Case(
        "queue-credential-in-other-namespace",
        "queue-credential-in-own-tenant",
        change(f"{R.AGENT}-queue-secret", lambda p: p["metadata"].__setitem__("namespace", "tenant-research")),
        "holds the queue credential of",
        f"{R.AGENT}-queue-secret",
    ),
    # labels: with remediation switched off, the validation shows what is missing
    Case("missing-standard-labels", "standard-labels", add(NO_LABELS_CM), "app.kubernetes.io/part-of: agent-runtime, app.kubernetes.io/managed-by: pulumi", "unlabelled-config"),
]


def _violations(case: Case) -> list[S.Violation]:
    # "digests": prod as a team that requires digests configures it
    given = dict(S.config_file(case.env) if case.env != "digests" else {**S.config_file("prod"), "images-pinned": {"requireDigest": True}})
    given["agent-topology-spread"] = "advisory"
    if case.policy == "standard-labels":
        given["standard-labels"] = "mandatory"
    return S.run_direct(case.build(), given=given)


def test_every_policy_has_a_bad_case():
    covered = {c.policy for c in CASES}
    assert covered == set(S.BY_NAME), f"policies without a bad case: {sorted(set(S.BY_NAME) - covered)}"


def test_bundle_is_compliant():
    for env in ("dev", "prod"):
        given = {**S.config_file(env), "agent-topology-spread": "advisory", "standard-labels": "mandatory"}
        found = S.run_direct(R.full_bundle(), given=given)
        assert found == [], "\n".join(f"{v.policy}: {v.message}" for v in found)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_resource_is_caught(case: Case):
    found = _violations(case)
    mine = [v for v in found if v.policy == case.policy]
    assert mine, f"{case.policy} did not fire; got {[(v.policy, v.message) for v in found]}"
    hits = [v for v in mine if case.expect in v.message]
    assert hits, f"no {case.policy} message contains {case.expect!r}: {[v.message for v in mine]}"
    culprit_urn = next(r.urn for r in case.build() if r.name == case.culprit)
    at_culprit = [v for v in hits if v.urn == culprit_urn]
    assert at_culprit, f"violation does not point at {culprit_urn}: {[v.urn for v in hits]}"
    # messages name the resource (its URN) and the fix
    assert all(culprit_urn in v.message and "Fix" in v.message for v in at_culprit)
    # the broken thing trips only its own policy (no collateral noise), except where one change breaks two rules
    others = {v.policy for v in found} - {case.policy}
    assert others <= ALLOWED_COLLATERAL.get(case.id, set()), f"unexpected extra violations: {[(v.policy, v.message) for v in found if v.policy != case.policy]}"
    expected_level = EnforcementLevel.ADVISORY if case.policy == "agent-topology-spread" else EnforcementLevel.MANDATORY
    assert {v.level for v in mine} == {expected_level}


ALLOWED_COLLATERAL = {
    # one change that legitimately breaks two rules
    "env-literal-token": {"nacos-auth-enabled"},  # the literal token also means it does not come from a Secret
    "sandbox-unmanaged-no-netpol": {"tenant-namespace-guardrails"},  # the case removes the tenant's default-deny
    "nacos-untagged": {"nacos-image-supported"},  # an untagged Nacos image has no version to check either
    "plugin-wrong-namespace": {"public-routes-require-jwt"},  # Higress ignores the plugin, so the route is open
    "plugin-no-auth-label": {"a2a-routes-require-internal-auth"},  # an unlabelled plugin covers nothing
    "a2a-path-labelled-public": {"a2a-route-timeout"},  # a chat route copied onto an A2A path carries no timeout
    "nacos-one-replica-prod": {"nacos-disruption-budget"},  # maxUnavailable 1 of 1 replica loses the quorum too
    # the agent-wide route finds a skill's rule on the skill route of its agent: an unlabelled one is not found
    "route-without-agent-label": {"a2a-skill-access-respected"},
}


@pytest.mark.parametrize("env,expect_na", [("dev", True), ("prod", False)])
def test_prod_only_rules_follow_the_environment(env, expect_na):
    """One Nacos replica and one gateway replica: fine in dev, caught in prod (policy config decides)."""
    resources = R.mutate("higress-chart", lambda p: p["values"]["gateway"].__setitem__("replicas", 1.0), R.platform_resources(replicas=1))
    resources = R.without("nacos-pdb", resources=resources)
    found = {v.policy for v in S.run_direct(resources, env=env)}
    prod_rules = {"nacos-replicas", "gateway-replicas", "nacos-disruption-budget"}
    assert (found & prod_rules == set()) if expect_na else (found >= prod_rules)


def test_thresholds_come_from_config():
    resources = R.platform_resources(replicas=3)
    found = S.run_direct(resources, given={"nacos-replicas": {"environment": "prod", "minReplicas": 5}})
    assert [v.policy for v in found] == ["nacos-replicas"] and "at least 5 are required" in found[0].message
    lb = R.res("kubernetes:core/v1:Service", "edge", {"metadata": {"name": "edge", "namespace": "edge", "labels": R.std_labels("e", "edge")}, "spec": {"type": "LoadBalancer"}})
    assert [v.policy for v in S.run_direct([lb], env="prod")] == ["no-loadbalancer-services"]
    assert S.run_direct([lb], given={"no-loadbalancer-services": {"allowedLoadBalancerServices": ["edge/edge"]}}) == []
    kata = R.mutate(TPL, lambda p: R.pod_spec(p).__setitem__("runtimeClassName", "kata-qemu"), R.sandbox_resources())
    assert S.run_direct(kata, env="prod") == []
    found = S.run_direct(kata, given={"sandbox-runtime-class-allowed": {"allowedRuntimeClasses": ["gvisor"]}})
    assert [v.policy for v in found] == ["sandbox-runtime-class-allowed"]


def test_registry_check_is_idle_without_registrations():
    resources = R.without(f"{R.AGENT}-agent-card", resources=R.full_bundle())
    assert S.run_direct(resources, env="prod") == []


def test_queue_rules_follow_the_environment():
    """A dev-shaped queue (1 broker, ACL off): in dev only ACL-off is warned about (a single broker is what dev
    is), in prod both are refused."""
    dev_queue = R.queue_resources(name_servers=1, broker_groups=1, replicas_per_group=1, proxies=1, acl=False)
    bundle = R.platform_resources() + R.agent_bundle() + dev_queue
    rules = {"message-queue-acl", "message-queue-replicated"}
    dev = [v for v in S.run_direct(bundle, env="dev") if v.policy in rules]
    assert {(v.policy, v.level) for v in dev} == {("message-queue-acl", EnforcementLevel.ADVISORY)}
    prod = [v for v in S.run_direct(bundle, env="prod") if v.policy in rules]
    assert {v.policy for v in prod} == rules and {v.level for v in prod} == {EnforcementLevel.MANDATORY}