"""Nacos, rendered: where it listens, and what its Services, StatefulSet, policies and admin-init Job say.

Auth is always on. The secret values themselves never appear here: pods read them
from the one Secret (AUTH_SECRET) through secretKeyRef, so no rendered object carries them.
"""

from __future__ import annotations

from models.settings import NacosSettings
from render.k8s_common import (
    LABEL_ROLE,
    LABEL_TENANT,
    dns_egress_rule,
    resources_dict,
    restricted_container_security,
    restricted_namespace_labels,
    restricted_pod_security,
    selector_labels,
    standard_labels,
)

HTTP_PORT = 8848
CLIENT_GRPC_PORT = 9848  # 8848 + 1000
CLUSTER_GRPC_PORT = 9849  # 8848 + 1001
RAFT_PORT = 7848  # 8848 - 1000
CONSOLE_PORT = 8080

APP = "nacos"
HEADLESS_SERVICE = f"{APP}-headless"
AUTH_SECRET = "nacos-auth"
IDENTITY_KEY = "agent-runtime-identity"
ADMIN_INIT = "nacos-admin-init"
STARTUP_GRACE_SECONDS = 180


def service_host(namespace: str) -> str:
    """The in-cluster DNS name of the Nacos client Service."""
    return f"{APP}.{namespace}.svc.cluster.local"


def nacos_address(namespace: str) -> str:
    """The in-cluster host:port of the Nacos client Service."""
    return f"{service_host(namespace)}:{HTTP_PORT}"


def nacos_client_egress_rule(namespace: str) -> dict:
    """Egress to the Nacos pods on the client ports (HTTP and gRPC): what agents need to register and discover."""
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "podSelector": {"matchLabels": registry_match()},
            }
        ],
        "ports": [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": CLIENT_GRPC_PORT}],
    }


# --- labels -----------------------------------------------------------------------------------


def registry_labels(extra: dict[str, str]) -> dict[str, str]:
    """Labels of every Nacos object, plus the stack's extra labels."""
    return standard_labels(APP, "registry", extra)


def registry_match() -> dict[str, str]:
    """The selector of the Nacos pods: Services, PDB, anti-affinity and policies all pick them by it."""
    return selector_labels(APP, "registry")


def admin_init_match() -> dict[str, str]:
    """The selector of the admin-init Job's pod, which the policies let reach the servers."""
    return selector_labels(APP, "admin-init")


def namespace_labels(labels: dict[str, str]) -> dict[str, str]:
    """The namespace enforces the restricted Pod Security Standard and is marked as the registry's."""
    return {**labels, **restricted_namespace_labels(), LABEL_ROLE: "registry"}


# --- Services and disruption budget --------------------------------------------------------------


def headless_service_spec() -> dict:
    """Every port, and not-ready pods published too: members must find each other before they are ready."""
    peer_ports = [
        {"name": "http", "port": HTTP_PORT, "targetPort": HTTP_PORT},
        {"name": "client-rpc", "port": CLIENT_GRPC_PORT, "targetPort": CLIENT_GRPC_PORT},
        {"name": "raft-rpc", "port": CLUSTER_GRPC_PORT, "targetPort": CLUSTER_GRPC_PORT},
        {"name": "old-raft-rpc", "port": RAFT_PORT, "targetPort": RAFT_PORT},
        {"name": "console", "port": CONSOLE_PORT, "targetPort": CONSOLE_PORT},
    ]
    return {
        "clusterIP": "None",
        "publishNotReadyAddresses": True,
        "selector": registry_match(),
        "ports": [{**p, "protocol": "TCP"} for p in peer_ports],
    }


def client_service_spec() -> dict:
    """Only the client and console ports: the Raft ports stay between members."""
    return {
        "type": "ClusterIP",
        "selector": registry_match(),
        "ports": [
            {"name": "http", "port": HTTP_PORT, "targetPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "client-rpc", "port": CLIENT_GRPC_PORT, "targetPort": CLIENT_GRPC_PORT, "protocol": "TCP"},
            {"name": "console", "port": CONSOLE_PORT, "targetPort": CONSOLE_PORT, "protocol": "TCP"},
        ],
    }


def disruption_budget_spec() -> dict:
    """One voluntary disruption at a time keeps the Raft majority of a 3+ member cluster."""
    return {"maxUnavailable": 1, "selector": {"matchLabels": registry_match()}}


# --- the server pods -------------------------------------------------------------------------------


def _from_secret(var: str, key: str) -> dict:
    """An env var read from the auth Secret, so the value never sits in the pod spec."""
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": AUTH_SECRET, "key": key}}}


def peer_addresses(s: NacosSettings) -> str:
    """NACOS_SERVERS: each member by its stable StatefulSet hostname, so members survive pod IP changes."""
    return " ".join(
        f"{APP}-{i}.{HEADLESS_SERVICE}.{s.namespace}.svc.cluster.local:{HTTP_PORT}" for i in range(s.replicas)
    )


def storage_env(s: NacosSettings) -> list[dict]:
    """Embedded Raft/Derby storage, or the external MySQL with its password from the Secret."""
    if s.storage.type == "embedded":
        return [{"name": "EMBEDDED_STORAGE", "value": "embedded"}]
    m = s.storage.mysql
    assert m is not None
    return [
        {"name": "SPRING_DATASOURCE_PLATFORM", "value": "mysql"},
        {"name": "MYSQL_SERVICE_HOST", "value": m.host},
        {"name": "MYSQL_SERVICE_PORT", "value": str(m.port)},
        {"name": "MYSQL_SERVICE_DB_NAME", "value": m.database},
        {"name": "MYSQL_SERVICE_USER", "value": m.user},
        {"name": "MYSQL_SERVICE_DB_PARAM", "value": m.params},
        _from_secret("MYSQL_SERVICE_PASSWORD", "mysql-password"),
    ]


def server_env(s: NacosSettings) -> list[dict]:
    """Mode, auth (always on, keys from the Secret), JVM sizing, cluster members and storage."""
    env = [
        {"name": "MODE", "value": "standalone" if s.standalone else "cluster"},
        {"name": "PREFER_HOST_MODE", "value": "hostname"},
        {"name": "NACOS_SERVER_PORT", "value": str(HTTP_PORT)},
        {"name": "NACOS_AUTH_ENABLE", "value": "true"},
        {"name": "NACOS_AUTH_ADMIN_ENABLE", "value": "true"},
        {"name": "NACOS_AUTH_CONSOLE_ENABLE", "value": "true"},
        _from_secret("NACOS_AUTH_TOKEN", "token"),
        _from_secret("NACOS_AUTH_IDENTITY_KEY", "identity-key"),
        _from_secret("NACOS_AUTH_IDENTITY_VALUE", "identity-value"),
        {"name": "JVM_XMS", "value": s.jvm.xms},
        {"name": "JVM_XMX", "value": s.jvm.xmx},
        {"name": "JVM_XMN", "value": s.jvm.xmn},
    ]
    if not s.standalone:
        env.append({"name": "NACOS_SERVERS", "value": peer_addresses(s)})
    return env + storage_env(s)


def affinity(s: NacosSettings) -> dict:
    """Members on distinct nodes: required for a cluster (one node loss keeps the majority), preferred standalone."""
    term = {"labelSelector": {"matchLabels": registry_match()}, "topologyKey": "kubernetes.io/hostname"}
    if not s.standalone:
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}}


def data_volume_claim(s: NacosSettings) -> dict:
    """One persistent volume per member for its Raft/Derby data, of the configured size and class."""
    claim = {
        "metadata": {"name": "data", "labels": registry_match()},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": s.storage.size}},
        },
    }
    if s.storage.storage_class_name:
        claim["spec"]["storageClassName"] = s.storage.storage_class_name
    return claim


def _health_probe(path: str, **extra) -> dict:
    """An HTTP probe on the console port, where the health endpoints tell the truth."""
    return {"httpGet": {"path": path, "port": CONSOLE_PORT}, "timeoutSeconds": 3, **extra}


def writable_conf_container(s: NacosSettings) -> dict:
    """The image's start script writes conf/cluster.conf: give it a writable copy of conf/
    so the root filesystem can stay read-only."""
    return {
        "name": "writable-conf",
        "image": s.image,
        "command": ["sh", "-c", "cp -R /home/nacos/conf/. /writable-conf/"],
        "securityContext": restricted_container_security(),
        "resources": {
            "requests": {"cpu": "50m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        "volumeMounts": [{"name": "conf", "mountPath": "/writable-conf"}],
    }


def server_container(s: NacosSettings) -> dict:
    """The Nacos server: its ports, env, restricted security and probes on the console health endpoints."""
    return {
        "name": "nacos",
        "image": s.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "client-rpc", "containerPort": CLIENT_GRPC_PORT, "protocol": "TCP"},
            {"name": "raft-rpc", "containerPort": CLUSTER_GRPC_PORT, "protocol": "TCP"},
            {"name": "old-raft-rpc", "containerPort": RAFT_PORT, "protocol": "TCP"},
            {"name": "console", "containerPort": CONSOLE_PORT, "protocol": "TCP"},
        ],
        "env": server_env(s),
        "resources": resources_dict(s.resources),
        "securityContext": restricted_container_security(),
        # The console health endpoints answer 500 until the node really serves;
        # :8848/.../readiness answers 200 regardless, so it is not used.
        "startupProbe": _health_probe(
            "/v3/console/health/readiness",
            periodSeconds=5,
            failureThreshold=STARTUP_GRACE_SECONDS // 5,
        ),
        "readinessProbe": _health_probe("/v3/console/health/readiness", periodSeconds=10, failureThreshold=3),
        "livenessProbe": _health_probe("/v3/console/health/liveness", periodSeconds=10, failureThreshold=6),
        "volumeMounts": [
            {"name": "data", "mountPath": "/home/nacos/data"},
            {"name": "logs", "mountPath": "/home/nacos/logs"},
            {"name": "conf", "mountPath": "/home/nacos/conf"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def scratch_volumes() -> list[dict]:
    """Bounded emptyDirs for what the read-only root filesystem cannot hold: logs, conf copy, tmp."""
    return [
        {"name": "logs", "emptyDir": {"sizeLimit": "2Gi"}},
        {"name": "conf", "emptyDir": {"sizeLimit": "16Mi"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "512Mi"}},
    ]


def statefulset_spec(s: NacosSettings, labels: dict[str, str]) -> dict:
    """Stable member names behind the headless Service, started in parallel, each with its own data volume."""
    return {
        "serviceName": HEADLESS_SERVICE,
        "replicas": s.replicas,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": registry_match()},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": APP,
                "automountServiceAccountToken": False,
                "securityContext": restricted_pod_security(),
                "affinity": affinity(s),
                "terminationGracePeriodSeconds": 60,
                "initContainers": [writable_conf_container(s)],
                "containers": [server_container(s)],
                "volumes": scratch_volumes(),
            },
        },
        "volumeClaimTemplates": [data_volume_claim(s)],
    }


# --- network policies ------------------------------------------------------------------------------


def _ports(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def access_policy_spec(s: NacosSettings, gateway_namespace: str) -> dict:
    """Into the servers: the gateway and tenant namespaces on the client ports, peers, the admin-init Job.
    Out: DNS, peers, and the MySQL port when storage is external."""
    match = registry_match()
    api_ports = _ports(HTTP_PORT, CLIENT_GRPC_PORT)
    peer_ports = _ports(HTTP_PORT, CLIENT_GRPC_PORT, CLUSTER_GRPC_PORT, RAFT_PORT)
    ingress = [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": gateway_namespace}}}],
            "ports": api_ports,
        },
        {
            "from": [{"namespaceSelector": {"matchExpressions": [{"key": LABEL_TENANT, "operator": "Exists"}]}}],
            "ports": api_ports,
        },
        {"from": [{"podSelector": {"matchLabels": match}}], "ports": peer_ports},
        {"from": [{"podSelector": {"matchLabels": admin_init_match()}}], "ports": _ports(HTTP_PORT, CONSOLE_PORT)},
    ]
    egress = [dns_egress_rule(), {"to": [{"podSelector": {"matchLabels": match}}], "ports": peer_ports}]
    if s.storage.type == "mysql":
        assert s.storage.mysql is not None
        egress.append({"ports": _ports(s.storage.mysql.port)})
    return {"podSelector": {"matchLabels": match}, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress}


def admin_init_policy_spec() -> dict:
    """The admin-init Job may only resolve names and reach the servers' API and console ports."""
    return {
        "podSelector": {"matchLabels": admin_init_match()},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [
            dns_egress_rule(),
            {"to": [{"podSelector": {"matchLabels": registry_match()}}], "ports": _ports(HTTP_PORT, CONSOLE_PORT)},
        ],
    }


# --- the admin-init Job -----------------------------------------------------------------------------


def admin_init_labels() -> dict[str, str]:
    """The Job and its pod carry these (no stack extras): admin_init_match() selects them."""
    return standard_labels(APP, "admin-init")


def admin_init_script(host: str) -> str:
    """Wait for the console, then create the admin user; 409 (already initialised) counts as success.

    The password is posted as a form field, never put in a URL or a log line.
    """
    return (
        "set -eu\n"
        f"until curl -sf -o /dev/null http://{host}:{CONSOLE_PORT}/v3/console/health/readiness; do sleep 5; done\n"
        f"body=$(curl -s -X POST --data-urlencode \"password=${{NACOS_ADMIN_PASSWORD}}\" "
        f"http://{host}:{HTTP_PORT}/nacos/v3/auth/user/admin)\n"
        "case \"$body\" in\n"
        "  *'\"code\":409'*|*'\"username\"'*) echo 'nacos admin user ready' ;;\n"
        "  *) echo 'nacos admin init failed' >&2; exit 1 ;;\n"
        "esac\n"
    )


def admin_init_annotations() -> dict[str, str]:
    """Pulumi waits for the Job as long as the Job itself may run."""
    return {"pulumi.com/timeoutSeconds": str(STARTUP_GRACE_SECONDS * 3)}


def admin_init_job_spec(s: NacosSettings) -> dict:
    """First boot of Nacos 3 has no admin user: create `nacos` once with the Secret's password.

    Idempotent, so it may rerun; bounded by a deadline so a Nacos that never comes up fails the deploy.
    """
    labels = admin_init_labels()
    return {
        "backoffLimit": 6,
        "activeDeadlineSeconds": STARTUP_GRACE_SECONDS * 3,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "restartPolicy": "OnFailure",
                "automountServiceAccountToken": False,
                "securityContext": restricted_pod_security(fs_group=False),
                "containers": [
                    {
                        "name": "admin-init",
                        "image": s.admin_init_image,
                        "command": ["sh", "-c", admin_init_script(service_host(s.namespace))],
                        "env": [_from_secret("NACOS_ADMIN_PASSWORD", "admin-password")],
                        "securityContext": restricted_container_security(),
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "16Mi"},
                            "limits": {"cpu": "100m", "memory": "64Mi"},
                        },
                    }
                ],
            },
        },
    }
