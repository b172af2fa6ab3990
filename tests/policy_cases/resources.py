"""A compliant agent bundle (what the agent/gateway code is expected to register) and helpers to break it.

Every bad case in test_policies_bad_cases.py starts from `agent_bundle()` (which
must pass the whole pack) and changes one thing, so each case fails for exactly
the reason it names.
"""

from __future__ import annotations

import copy
from typing import Callable, Optional

from .support import Resource, urn

TENANT_NS = "tenant-retail"
GATEWAY_NS = "higress-system"
AGENT = "order-assistant"
RESTRICTED_CTX = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
POD_CTX = {"runAsNonRoot": True, "runAsUser": 10001.0, "runAsGroup": 10001.0, "seccompProfile": {"type": "RuntimeDefault"}}
RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def std_labels(name: str, component: str, **extra: str) -> dict:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "agent-runtime",
        "app.kubernetes.io/managed-by": "pulumi",
        **extra,
    }


def res(type_: str, name: str, props: dict, stack: str = "dev") -> Resource:
    return Resource(type_, name, urn(type_, name, stack), props)


def agent_container(name: str = "agent") -> dict:
    return {
        "name": name,
        "image": "registry.example.com/agents/order-assistant:1.4.2",
        "ports": [{"name": "http", "containerPort": 8080.0}],
        "env": [
            {"name": "AGENT_NAME", "value": AGENT},
            {"name": "MAX_TOKENS", "value": "4096"},
            {"name": "AGENT_CONFIG", "value": "/etc/agent/config.json"},
        ],
        "resources": copy.deepcopy(RESOURCES),
        "securityContext": copy.deepcopy(RESTRICTED_CTX),
        "readinessProbe": {"httpGet": {"path": "/.well-known/agent-card.json", "port": 8080.0}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080.0}},
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "credentials", "mountPath": "/etc/agent-credentials", "readOnly": True},
        ],
    }


def tenant_resources(ns: str = TENANT_NS) -> list[Resource]:
    labels = std_labels("retail", "tenant", **{"agent-runtime.io/tenant": "retail", "agent-runtime.io/tier": "standard"})
    return [
        res("kubernetes:core/v1:Namespace", f"{ns}-ns", {"metadata": {"name": ns, "labels": labels}}),
        res(
            "kubernetes:core/v1:ResourceQuota",
            f"{ns}-quota",
            {
                "metadata": {"name": "tenant-quota", "namespace": ns, "labels": labels},
                "spec": {"hard": {"requests.cpu": "8", "requests.memory": "16Gi", "limits.cpu": "16", "limits.memory": "32Gi", "pods": "100"}},
            },
        ),
        res(
            "kubernetes:core/v1:LimitRange",
            f"{ns}-limits",
            {
                "metadata": {"name": "tenant-limits", "namespace": ns, "labels": labels},
                "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "1Gi"}, "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]},
            },
        ),
        res(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            f"{ns}-default-deny",
            {
                "metadata": {"name": "default-deny", "namespace": ns, "labels": labels},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
        ),
    ]


def agent_resources(agent: str = AGENT, ns: str = TENANT_NS) -> list[Resource]:
    labels = std_labels(agent, "agent", **{"agent-runtime.io/agent": agent, "agent-runtime.io/tenant": "retail"})
    select = {"app.kubernetes.io/name": agent, "app.kubernetes.io/component": "agent"}
    meta = lambda name: {"name": name, "namespace": ns, "labels": labels}  # noqa: E731
    return [
        res(
            "kubernetes:apps/v1:Deployment",
            f"{agent}-deployment",
            {
                "metadata": meta(agent),
                "spec": {
                    "replicas": 2.0,
                    "selector": {"matchLabels": select},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": agent,
                            "automountServiceAccountToken": False,
                            "securityContext": copy.deepcopy(POD_CTX),
                            "topologySpreadConstraints": [
                                {"maxSkew": 1.0, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": select}}
                            ],
                            "containers": [agent_container()],
                            "volumes": [
                                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                                {"name": "credentials", "projected": {"defaultMode": 288.0, "sources": [
                                    {"secret": {"name": "model-credentials", "items": [{"key": "openai", "path": "model-api-key"}]}}
                                ]}},
                            ],
                        },
                    },
                },
            },
        ),
        res(
            "kubernetes:core/v1:Service",
            f"{agent}-service",
            {"metadata": meta(agent), "spec": {"type": "ClusterIP", "selector": select, "ports": [{"port": 80.0, "targetPort": 8080.0}]}},
        ),
        res(
            "kubernetes:policy/v1:PodDisruptionBudget",
            f"{agent}-pdb",
            {"metadata": meta(agent), "spec": {"maxUnavailable": 1.0, "selector": {"matchLabels": select}}},
        ),
        res(
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            f"{agent}-hpa",
            {
                "metadata": meta(agent),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": agent},
                    "minReplicas": 2.0,
                    "maxReplicas": 10.0,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70.0}}}],
                },
            },
        ),
        res(
            "kubernetes:core/v1:ConfigMap",
            f"{agent}-config",
            {
                "metadata": meta(f"{agent}-config"),
                "data": {
                    "systemMessage": "You help retail customers track orders.",
                    "model": "gpt-4o-mini",
                    "max_tokens": "2048",
                    "apiKeySecretName": "model-credentials",
                    "agent.yaml": "model:\n  provider: openai\n  apiKey: ${OPENAI_API_KEY}\n  token_limit: 4096\n",
                },
            },
        ),
        res(
            "kubernetes:networking.k8s.io/v1:Ingress",
            f"{agent}-public-route",
            {
                "metadata": {
                    "name": f"{agent}-chat",
                    "namespace": ns,
                    "labels": {**labels, "agent-runtime.io/route-kind": "public"},
                },
                "spec": {
                    "ingressClassName": "higress",
                    "rules": [{"http": {"paths": [{"path": f"/api/v1/agents/{agent}/chat", "pathType": "Exact", "backend": {"service": {"name": agent, "port": {"number": 80.0}}}}]}}],
                },
            },
        ),
        res(
            "kubernetes:networking.k8s.io/v1:Ingress",
            f"{agent}-a2a-route",
            {
                "metadata": {
                    "name": f"{agent}-a2a",
                    "namespace": ns,
                    "labels": {**labels, "agent-runtime.io/route-kind": "a2a"},
                    # the skill's rule as the program writes it: research may call refund-v1 too
                    "annotations": {
                        "higress.io/timeout": "120",
                        "agent-runtime.io/a2a-skill": "refund-v1",
                        "agent-runtime.io/a2a-allow-tenants": "research",
                        "agent-runtime.io/a2a-allow-agents": "",
                        "agent-runtime.io/a2a-sensitive": "false",
                    },
                },
                "spec": {
                    "ingressClassName": "higress",
                    "rules": [{"http": {"paths": [{"path": f"/api/v1/internal/a2a/{agent}/refund-v1", "pathType": "Prefix", "backend": {"service": {"name": agent, "port": {"number": 80.0}}}}]}}],
                },
            },
        ),
        res(
            "kubernetes:networking.k8s.io/v1:Ingress",
            f"{agent}-a2a-agent-wide-route",
            {
                "metadata": {
                    "name": f"{agent}-a2a-agent-wide",
                    "namespace": ns,
                    "labels": {**labels, "agent-runtime.io/route-kind": "a2a"},
                    # every skill, for the callers of every skill (the program writes no rule of its own here)
                    "annotations": {"higress.io/timeout": "120", "agent-runtime.io/a2a-skills": "refund-v1"},
                },
                "spec": {
                    "ingressClassName": "higress",
                    "rules": [{"http": {"paths": [{"path": f"/api/v1/internal/a2a/{agent}", "pathType": "Exact", "backend": {"service": {"name": agent, "port": {"number": 80.0}}}}]}}],
                },
            },
        ),
        res(
            "pulumi-python:dynamic:Resource",
            f"{agent}-agent-card",
            {
                "registryKind": "AgentCard",
                "agentName": agent,
                "namespaceId": "tenant-retail",
                "card": {"name": agent, "version": "1.4.2", "url": f"http://gateway/api/v1/internal/a2a/{agent}", "skills": [{"id": "refund-v1"}]},
                "__provider": "serialized-provider",
            },
        ),
    ]


# who each jwt-auth plugin lets through: an end-user issuer, and agents of the route's tenant and of research
ALLOWED = {"public": ["public-issuer"], "internal": ["agent:retail/orchestrator", "agent:research/analyst"]}


def auth_plugins(routes: Optional[dict[str, list[str]]] = None) -> list[Resource]:
    routes = routes or {
        "public": [f"{TENANT_NS}/{AGENT}-chat"],
        "internal": [f"{TENANT_NS}/{AGENT}-a2a", f"{TENANT_NS}/{AGENT}-a2a-agent-wide"],
    }
    out = []
    for auth, ingresses in routes.items():
        out.append(
            res(
                "kubernetes:extensions.higress.io/v1alpha1:WasmPlugin",
                f"jwt-auth-{auth}",
                {
                    "metadata": {
                        "name": f"jwt-auth-{auth}",
                        "namespace": GATEWAY_NS,
                        "labels": {**std_labels("higress", "gateway"), "agent-runtime.io/auth": auth},
                    },
                    "spec": {
                        "url": "oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/jwt-auth:2.0.0",
                        "phase": "AUTHN",
                        "priority": 340.0,
                        "failStrategy": "FAIL_CLOSE",
                        "defaultConfig": {"consumers": [{"name": f"{auth}-issuer", "issuer": f"https://{auth}.example.com", "jwks": "{\"keys\":[]}"}]},
                        "matchRules": [{"ingress": ingresses, "config": {"allow": list(ALLOWED[auth])}}],
                    },
                },
            )
        )
    return out


def sandbox_resources(ns: str = TENANT_NS) -> list[Resource]:
    labels = std_labels("code-runner", "sandbox", **{"agent-runtime.io/tenant": "retail"})
    return [
        res(
            "kubernetes:node.k8s.io/v1:RuntimeClass",
            "gvisor",
            {"metadata": {"name": "gvisor", "labels": std_labels("gvisor", "runtime")}, "handler": "runsc"},
        ),
        res(
            "kubernetes:extensions.agents.x-k8s.io/v1beta1:SandboxTemplate",
            "code-runner-template",
            {
                "metadata": {"name": "code-runner", "namespace": ns, "labels": labels},
                "spec": {
                    "podTemplate": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "runtimeClassName": "gvisor",
                            "automountServiceAccountToken": False,
                            "securityContext": copy.deepcopy(POD_CTX),
                            "containers": [
                                {
                                    "name": "runner",
                                    "image": "registry.example.com/sandbox/python-runner:3.12.7",
                                    "resources": copy.deepcopy(RESOURCES),
                                    "securityContext": copy.deepcopy(RESTRICTED_CTX),
                                }
                            ],
                        },
                    },
                    "networkPolicyManagement": "Managed",
                },
            },
        ),
        res(
            "kubernetes:extensions.agents.x-k8s.io/v1beta1:SandboxWarmPool",
            "code-runner-pool",
            {
                "metadata": {"name": "code-runner", "namespace": ns, "labels": labels},
                "spec": {"replicas": 2.0, "sandboxTemplateRef": {"name": "code-runner"}},
            },
        ),
    ]


DYNAMIC = "pulumi-python:dynamic:Resource"
ASYNC_TASKS = "research_summarizer_tasks_summarize-v1"
CALLER_USER = f"retail_{AGENT}"


def queue_access_resources() -> list[Resource]:
    """The agent calls research's async summarizer: its user, its result inbox, the task topic it may publish to."""
    results = f"retail_{AGENT}_results"
    return [
        res(DYNAMIC, "summarizer-tasks", {"queueKind": "Topic", "topic": ASYNC_TASKS, "tenant": "research", "agent": "summarizer",
                                          "kind": "tasks", "acceptsFrom": [f"retail/{AGENT}"]}),
        res(DYNAMIC, f"{AGENT}-results", {"queueKind": "Topic", "topic": results, "tenant": "retail", "agent": AGENT,
                                          "kind": "results", "acceptsFrom": ["research/summarizer"]}),
        res(DYNAMIC, f"{AGENT}-results-group", {"queueKind": "ConsumerGroup", "group": results, "tenant": "retail", "agent": AGENT}),
        res(DYNAMIC, "summarizer-workers", {"queueKind": "ConsumerGroup", "group": "research_summarizer_workers", "tenant": "research", "agent": "summarizer"}),
        res(DYNAMIC, f"{AGENT}-queue-user", {"queueKind": "User", "username": CALLER_USER, "tenant": "retail", "agent": AGENT, "entries": [
            {"resource": f"Topic:{ASYNC_TASKS}", "actions": ["Pub"], "decision": "Allow"},
            {"resource": f"Topic:{results}", "actions": ["Sub"], "decision": "Allow"},
            {"resource": f"Group:{results}", "actions": ["Sub"], "decision": "Allow"},
        ]}),
        res("kubernetes:core/v1:Secret", f"{AGENT}-queue-secret", {
            "metadata": {"name": f"{AGENT}-queue", "namespace": TENANT_NS,
                         "labels": std_labels(AGENT, "agent", **{"agent-runtime.io/queue-user": CALLER_USER})},
            "type": "Opaque", "stringData": {"username": CALLER_USER, "password": "[secret]"},
        }),
    ]


def agent_bundle() -> list[Resource]:
    """Tenant + one fully compliant agent + gateway auth + a sandbox template: passes every policy."""
    return tenant_resources() + agent_resources() + auth_plugins() + sandbox_resources() + queue_access_resources()


def find(resources: list[Resource], name: str) -> Resource:
    return next(r for r in resources if r.name == name)


def mutate(name: str, change: Callable[[dict], None], resources: Optional[list[Resource]] = None) -> list[Resource]:
    """A copy of the bundle with `change` applied to the props of resource `name`."""
    resources = copy.deepcopy(resources if resources is not None else agent_bundle())
    change(find(resources, name).props)
    return resources


def without(*names: str, resources: Optional[list[Resource]] = None) -> list[Resource]:
    resources = resources if resources is not None else agent_bundle()
    return [copy.deepcopy(r) for r in resources if r.name not in names]


def pod_spec(props: dict) -> dict:
    if "podTemplate" in props.get("spec", {}):
        return props["spec"]["podTemplate"]["spec"]
    return props["spec"]["template"]["spec"]


def container(props: dict, index: int = 0) -> dict:
    return pod_spec(props)["containers"][index]


def platform_resources(replicas: int = 3, stack: str = "prod") -> list[Resource]:
    """A Nacos StatefulSet + PDB and the Higress chart + McpBridge, shaped like the program's."""
    labels = std_labels("nacos", "registry")
    select = {"app.kubernetes.io/name": "nacos", "app.kubernetes.io/component": "registry"}
    from_secret = lambda var, key: {"name": var, "valueFrom": {"secretKeyRef": {"name": "nacos-auth", "key": key}}}  # noqa: E731
    return [
        res(
            "kubernetes:apps/v1:StatefulSet",
            "nacos-statefulset",
            {
                "metadata": {"name": "nacos", "namespace": "agent-runtime", "labels": labels},
                "spec": {
                    "replicas": float(replicas),
                    "serviceName": "nacos-headless",
                    "selector": {"matchLabels": select},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "automountServiceAccountToken": False,
                            "securityContext": copy.deepcopy(POD_CTX),
                            "containers": [
                                {
                                    "name": "nacos",
                                    "image": "nacos/nacos-server:v3.1.1",
                                    "env": [
                                        {"name": "MODE", "value": "cluster"},
                                        {"name": "NACOS_AUTH_ENABLE", "value": "true"},
                                        from_secret("NACOS_AUTH_TOKEN", "token"),
                                        from_secret("NACOS_AUTH_IDENTITY_KEY", "identity-key"),
                                        from_secret("NACOS_AUTH_IDENTITY_VALUE", "identity-value"),
                                    ],
                                    "resources": copy.deepcopy(RESOURCES),
                                    "securityContext": copy.deepcopy(RESTRICTED_CTX),
                                }
                            ],
                        },
                    },
                },
            },
            stack,
        ),
        res(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "nacos-pdb",
            {"metadata": {"name": "nacos", "namespace": "agent-runtime", "labels": labels}, "spec": {"maxUnavailable": 1.0, "selector": {"matchLabels": select}}},
            stack,
        ),
        Resource(
            "kubernetes:helm.sh/v4:Chart",
            "higress-chart",
            urn("kubernetes:helm.sh/v4:Chart", "higress-chart", stack),
            {
                "chart": "higress-core",
                "version": "2.2.1",
                "namespace": GATEWAY_NS,
                "repositoryOpts": {"repo": "https://higress.io/helm-charts"},
                "values": {"gateway": {"replicas": 3.0, "service": {"type": "LoadBalancer"}}, "global": {"local": False}},
            },
        ),
        res(
            "kubernetes:networking.higress.io/v1:McpBridge",
            "higress-mcpbridge",
            {
                "metadata": {"name": "default", "namespace": GATEWAY_NS, "labels": std_labels("higress", "gateway")},
                "spec": {
                    "registries": [
                        {
                            "type": "nacos3",
                            "name": "nacos-tenant-retail",
                            "domain": "nacos.agent-runtime.svc.cluster.local",
                            "port": 8848.0,
                            "nacosNamespaceId": "tenant-retail",
                            "nacosGroups": ["agents"],
                            "nacosRefreshInterval": 30000000000.0,
                            "authSecretName": "nacos-registry-credentials",
                            "enableMCPServer": True,
                        }
                    ]
                },
            },
            stack,
        ),
    ]


QUEUE_NS = "rocketmq"


def queue_resources(stack: str = "prod", **settings) -> list[Resource]:
    """The message queue as render/message_queue.py renders it (prod: HA, 3 name servers, 2 groups x 2, 2 proxies)."""
    from models.settings import MessageQueueSettings
    from render import message_queue as mq
    from render.k8s_common import default_deny_spec

    shape = {"enabled": True, "name_servers": 3, "broker_groups": 2, "replicas_per_group": 2, "proxies": 2, **settings}
    s = MessageQueueSettings(**shape)
    labels = mq.queue_labels({})

    def obj(type_: str, name: str, object_name: str, spec_key: str, spec: dict, object_labels: Optional[dict] = None):
        meta = {"name": object_name, "namespace": QUEUE_NS, "labels": object_labels or labels}
        return res(type_, name, {"metadata": meta, spec_key: spec}, stack)

    found = [
        res("kubernetes:core/v1:Namespace", "mq-ns", {"metadata": {"name": QUEUE_NS, "labels": mq.namespace_labels(labels)}}, stack),
        obj("kubernetes:core/v1:ConfigMap", "mq-config", mq.CONFIG_MAP, "data", mq.config_map_data(s)),
        obj("kubernetes:core/v1:ServiceAccount", "mq-sa", mq.SERVICE_ACCOUNT, "automountServiceAccountToken", False),
        obj("kubernetes:apps/v1:StatefulSet", "mq-namesrv", mq.NAMESRV, "spec", mq.namesrv_statefulset_spec(s, {}),
            mq.role_labels("name-server", {})),
        obj("kubernetes:core/v1:Service", "mq-namesrv-svc", mq.NAMESRV, "spec", mq.namesrv_service_spec(s)),
        obj("kubernetes:apps/v1:Deployment", "mq-proxy", mq.PROXY, "spec", mq.proxy_deployment_spec(s, {}),
            mq.role_labels("proxy", {})),
        obj("kubernetes:core/v1:Service", "mq-proxy-svc", mq.PROXY, "spec", mq.proxy_service_spec()),
        obj("kubernetes:networking.k8s.io/v1:NetworkPolicy", "mq-default-deny", "default-deny", "spec", default_deny_spec()),
    ]
    for i in range(s.broker_groups):
        name = mq.broker_statefulset_name(i)
        found.append(obj("kubernetes:apps/v1:StatefulSet", f"mq-broker-{i}", name, "spec", mq.broker_statefulset_spec(s, i, {}),
                         mq.role_labels("broker", {}, mq.broker_group_name(i))))
        found.append(obj("kubernetes:core/v1:Service", f"mq-broker-{i}-svc", name, "spec", mq.broker_service_spec(i)))
    for name, spec in mq.disruption_budgets(s).items():
        found.append(obj("kubernetes:policy/v1:PodDisruptionBudget", f"mq-pdb-{name}", name, "spec", spec))
    for name, spec in mq.network_policy_specs().items():
        found.append(obj("kubernetes:networking.k8s.io/v1:NetworkPolicy", f"mq-netpol-{name}", name, "spec", spec))
    return found


def full_bundle() -> list[Resource]:
    return platform_resources() + agent_bundle() + queue_resources()
