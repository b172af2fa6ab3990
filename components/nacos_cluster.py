"""NacosCluster: the Nacos 3.1 registry (services, MCP Registry, A2A AgentCards) as a StatefulSet.

Auth is always on. The JWT signing token, the cluster identity and the admin
password come from the stack's Pulumi secrets or are generated with
pulumi-random; they live only in one Kubernetes Secret and reach the pods through
secretKeyRef, so no manifest or ConfigMap carries them.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.settings import NacosSettings, PlatformSecrets
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
from render.nacos import CLIENT_GRPC_PORT, CLUSTER_GRPC_PORT, CONSOLE_PORT, HTTP_PORT, RAFT_PORT

IDENTITY_KEY = "agent-runtime-identity"
AUTH_SECRET = "nacos-auth"
STARTUP_GRACE_SECONDS = 180


def needs_generated_secrets(secrets: PlatformSecrets) -> bool:
    """True when the stack leaves a Nacos secret unset, so pulumi-random must generate it."""
    return not (secrets.nacos_auth_token and secrets.nacos_identity_value and secrets.nacos_admin_password)


def random_provider() -> pulumi.ProviderResource:
    """The explicit random provider; imported here so stacks that supply every secret never load pulumi-random."""
    import pulumi_random as random

    return random.Provider("random")


class NacosClusterArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: NacosSettings
    secrets: PlatformSecrets
    gateway_namespace: str
    labels: dict[str, str] = {}


class NacosCluster(pulumi.ComponentResource):
    """Nacos 3.1 with auth, persistent Raft/Derby data or MySQL, and a locked-down network."""

    namespace: pulumi.Output[str]
    service_host: pulumi.Output[str]
    http_address: pulumi.Output[str]
    admin_password: pulumi.Output[str]
    admin_username: str

    def __init__(self, name: str, args: NacosClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:platform:NacosCluster", name, None, opts)
        s = args.settings
        ns_name = s.namespace
        self.admin_username = s.admin_username
        app = "nacos"
        labels = standard_labels(app, "registry", args.labels)
        match = selector_labels(app, "registry")
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": {**labels, **restricted_namespace_labels(), LABEL_ROLE: "registry"}},
            opts=child,
        )
        ns_opts = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        token, identity_value, admin_password = self._auth_material(name, args.secrets)
        self.admin_password = admin_password
        secret_data = {
            "token": token,
            "identity-key": pulumi.Output.secret(IDENTITY_KEY),
            "identity-value": identity_value,
            "admin-password": admin_password,
        }
        if s.storage.type == "mysql":
            secret_data["mysql-password"] = pulumi.Output.secret(args.secrets.nacos_mysql_password)
        auth_secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": AUTH_SECRET, "namespace": ns_name, "labels": labels},
            type="Opaque",
            string_data=secret_data,
            opts=ns_opts,
        )

        headless = f"{app}-headless"
        peer_ports = [
            {"name": "http", "port": HTTP_PORT, "targetPort": HTTP_PORT},
            {"name": "client-rpc", "port": CLIENT_GRPC_PORT, "targetPort": CLIENT_GRPC_PORT},
            {"name": "raft-rpc", "port": CLUSTER_GRPC_PORT, "targetPort": CLUSTER_GRPC_PORT},
            {"name": "old-raft-rpc", "port": RAFT_PORT, "targetPort": RAFT_PORT},
            {"name": "console", "port": CONSOLE_PORT, "targetPort": CONSOLE_PORT},
        ]
        k8s.core.v1.Service(
            f"{name}-headless",
            metadata={"name": headless, "namespace": ns_name, "labels": labels},
            spec={
                "clusterIP": "None",
                "publishNotReadyAddresses": True,
                "selector": match,
                "ports": [{**p, "protocol": "TCP"} for p in peer_ports],
            },
            opts=ns_opts,
        )
        client_service = k8s.core.v1.Service(
            f"{name}-client",
            metadata={"name": app, "namespace": ns_name, "labels": labels},
            spec={
                "type": "ClusterIP",
                "selector": match,
                "ports": [
                    {"name": "http", "port": HTTP_PORT, "targetPort": HTTP_PORT, "protocol": "TCP"},
                    {"name": "client-rpc", "port": CLIENT_GRPC_PORT, "targetPort": CLIENT_GRPC_PORT, "protocol": "TCP"},
                    {"name": "console", "port": CONSOLE_PORT, "targetPort": CONSOLE_PORT, "protocol": "TCP"},
                ],
            },
            opts=ns_opts,
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": app, "namespace": ns_name, "labels": labels},
            automount_service_account_token=False,
            opts=ns_opts,
        )

        statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": app, "namespace": ns_name, "labels": labels},
            spec=self._statefulset_spec(s, app, headless, labels, match),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, auth_secret, service_account]),
        )

        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": app, "namespace": ns_name, "labels": labels},
            # one voluntary disruption at a time keeps the Raft majority of a 3+ member cluster
            spec={"maxUnavailable": 1, "selector": {"matchLabels": match}},
            opts=ns_opts,
        )

        self._network_policies(name, s, ns_name, labels, match, args.gateway_namespace, ns_opts)

        host = f"{app}.{ns_name}.svc.cluster.local"
        self._admin_init_job(name, s, ns_name, host, labels, pulumi.ResourceOptions(parent=self, depends_on=[statefulset, auth_secret]))

        self.namespace = namespace.metadata.name
        self.service_host = pulumi.Output.concat(
            client_service.metadata.name, ".", client_service.metadata.namespace, ".svc.cluster.local"
        )
        self.http_address = self.service_host.apply(lambda h: f"http://{h}:{HTTP_PORT}/nacos")
        self.register_outputs(
            {"namespace": self.namespace, "service_host": self.service_host, "http_address": self.http_address}
        )

    def _auth_material(self, name: str, secrets: PlatformSecrets):
        """Stack-supplied secrets win; otherwise generate them once and keep them in state (encrypted).

        pulumi-random is imported only to generate one: a stack that supplies all three runs without it.
        """
        child = pulumi.ResourceOptions(parent=self)

        def supplied_or(value: Optional[str], generate) -> pulumi.Output:
            if value:
                return pulumi.Output.secret(value)
            import pulumi_random as random

            return generate(random)

        # 32 random bytes, base64 encoded: the HS256 key size Nacos requires at minimum
        token = supplied_or(secrets.nacos_auth_token, lambda r: r.RandomBytes(f"{name}-token", length=32, opts=child).base64)
        identity = supplied_or(
            secrets.nacos_identity_value,
            lambda r: r.RandomPassword(f"{name}-identity", length=40, special=False, opts=child).result,
        )
        password = supplied_or(
            secrets.nacos_admin_password,
            lambda r: r.RandomPassword(f"{name}-admin-password", length=32, special=True, override_special="-_.", opts=child).result,
        )
        return token, identity, password

    @staticmethod
    def _env(s: NacosSettings, app: str, headless: str, ns_name: str) -> list[dict]:
        def from_secret(var: str, key: str) -> dict:
            return {"name": var, "valueFrom": {"secretKeyRef": {"name": AUTH_SECRET, "key": key}}}

        env = [
            {"name": "MODE", "value": "standalone" if s.standalone else "cluster"},
            {"name": "PREFER_HOST_MODE", "value": "hostname"},
            {"name": "NACOS_SERVER_PORT", "value": str(HTTP_PORT)},
            {"name": "NACOS_AUTH_ENABLE", "value": "true"},
            {"name": "NACOS_AUTH_ADMIN_ENABLE", "value": "true"},
            {"name": "NACOS_AUTH_CONSOLE_ENABLE", "value": "true"},
            from_secret("NACOS_AUTH_TOKEN", "token"),
            from_secret("NACOS_AUTH_IDENTITY_KEY", "identity-key"),
            from_secret("NACOS_AUTH_IDENTITY_VALUE", "identity-value"),
            {"name": "JVM_XMS", "value": s.jvm.xms},
            {"name": "JVM_XMX", "value": s.jvm.xmx},
            {"name": "JVM_XMN", "value": s.jvm.xmn},
        ]
        if not s.standalone:
            peers = " ".join(
                f"{app}-{i}.{headless}.{ns_name}.svc.cluster.local:{HTTP_PORT}" for i in range(s.replicas)
            )
            env.append({"name": "NACOS_SERVERS", "value": peers})
        if s.storage.type == "embedded":
            env.append({"name": "EMBEDDED_STORAGE", "value": "embedded"})
        else:
            m = s.storage.mysql
            assert m is not None
            env += [
                {"name": "SPRING_DATASOURCE_PLATFORM", "value": "mysql"},
                {"name": "MYSQL_SERVICE_HOST", "value": m.host},
                {"name": "MYSQL_SERVICE_PORT", "value": str(m.port)},
                {"name": "MYSQL_SERVICE_DB_NAME", "value": m.database},
                {"name": "MYSQL_SERVICE_USER", "value": m.user},
                {"name": "MYSQL_SERVICE_DB_PARAM", "value": m.params},
                from_secret("MYSQL_SERVICE_PASSWORD", "mysql-password"),
            ]
        return env

    def _statefulset_spec(self, s: NacosSettings, app: str, headless: str, labels: dict, match: dict) -> dict:
        ns_name = s.namespace
        health = lambda path, **extra: {  # noqa: E731 - tiny probe factory
            "httpGet": {"path": path, "port": CONSOLE_PORT},
            "timeoutSeconds": 3,
            **extra,
        }
        anti_affinity_term = {
            "labelSelector": {"matchLabels": match},
            "topologyKey": "kubernetes.io/hostname",
        }
        affinity = (
            {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [anti_affinity_term]}}
            if not s.standalone
            else {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": anti_affinity_term}]}}
        )
        volume_claim = {
            "metadata": {"name": "data", "labels": match},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": s.storage.size}},
            },
        }
        if s.storage.storage_class_name:
            volume_claim["spec"]["storageClassName"] = s.storage.storage_class_name
        container_security = restricted_container_security()
        return {
            "serviceName": headless,
            "replicas": s.replicas,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": match},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": app,
                    "automountServiceAccountToken": False,
                    "securityContext": restricted_pod_security(),
                    "affinity": affinity,
                    "terminationGracePeriodSeconds": 60,
                    # The image's start script writes conf/cluster.conf: give it a writable copy of conf/
                    # so the root filesystem can stay read-only.
                    "initContainers": [
                        {
                            "name": "writable-conf",
                            "image": s.image,
                            "command": ["sh", "-c", "cp -R /home/nacos/conf/. /writable-conf/"],
                            "securityContext": container_security,
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "32Mi"},
                                "limits": {"cpu": "200m", "memory": "64Mi"},
                            },
                            "volumeMounts": [{"name": "conf", "mountPath": "/writable-conf"}],
                        }
                    ],
                    "containers": [
                        {
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
                            "env": self._env(s, app, headless, ns_name),
                            "resources": resources_dict(s.resources),
                            "securityContext": container_security,
                            # The console health endpoints answer 500 until the node really serves;
                            # :8848/.../readiness answers 200 regardless, so it is not used.
                            "startupProbe": health(
                                "/v3/console/health/readiness",
                                periodSeconds=5,
                                failureThreshold=STARTUP_GRACE_SECONDS // 5,
                            ),
                            "readinessProbe": health("/v3/console/health/readiness", periodSeconds=10, failureThreshold=3),
                            "livenessProbe": health("/v3/console/health/liveness", periodSeconds=10, failureThreshold=6),
                            "volumeMounts": [
                                {"name": "data", "mountPath": "/home/nacos/data"},
                                {"name": "logs", "mountPath": "/home/nacos/logs"},
                                {"name": "conf", "mountPath": "/home/nacos/conf"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "logs", "emptyDir": {"sizeLimit": "2Gi"}},
                        {"name": "conf", "emptyDir": {"sizeLimit": "16Mi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "512Mi"}},
                    ],
                },
            },
            "volumeClaimTemplates": [volume_claim],
        }

    def _network_policies(self, name, s: NacosSettings, ns_name, labels, match, gateway_namespace, opts):
        """Default-deny for the namespace, then: gateway, tenant agents, peers, the admin-init job."""
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata={"name": "default-deny", "namespace": ns_name, "labels": labels},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            opts=opts,
        )
        api_ports = [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": CLIENT_GRPC_PORT}]
        peer_ports = [
            {"protocol": "TCP", "port": p} for p in (HTTP_PORT, CLIENT_GRPC_PORT, CLUSTER_GRPC_PORT, RAFT_PORT)
        ]
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
            {
                "from": [{"podSelector": {"matchLabels": selector_labels("nacos", "admin-init")}}],
                "ports": [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": CONSOLE_PORT}],
            },
        ]
        egress = [dns_egress_rule(), {"to": [{"podSelector": {"matchLabels": match}}], "ports": peer_ports}]
        if s.storage.type == "mysql":
            assert s.storage.mysql is not None
            egress.append({"ports": [{"protocol": "TCP", "port": s.storage.mysql.port}]})
        k8s.networking.v1.NetworkPolicy(
            f"{name}-access",
            metadata={"name": "nacos-access", "namespace": ns_name, "labels": labels},
            spec={"podSelector": {"matchLabels": match}, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress},
            opts=opts,
        )
        job_match = selector_labels("nacos", "admin-init")
        k8s.networking.v1.NetworkPolicy(
            f"{name}-admin-init-egress",
            metadata={"name": "nacos-admin-init", "namespace": ns_name, "labels": labels},
            spec={
                "podSelector": {"matchLabels": job_match},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [
                    dns_egress_rule(),
                    {
                        "to": [{"podSelector": {"matchLabels": match}}],
                        "ports": [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": CONSOLE_PORT}],
                    },
                ],
            },
            opts=opts,
        )

    def _admin_init_job(self, name, s: NacosSettings, ns_name, host, labels, opts):
        """First boot of Nacos 3 has no admin user: create `nacos` once with the Secret's password.

        Idempotent: later runs get body code 409 (already initialised) and succeed.
        The password is posted as a form field, never put in a URL or a log line.
        """
        job_labels = standard_labels("nacos", "admin-init")
        script = (
            "set -eu\n"
            f"until curl -sf -o /dev/null http://{host}:{CONSOLE_PORT}/v3/console/health/readiness; do sleep 5; done\n"
            f"body=$(curl -s -X POST --data-urlencode \"password=${{NACOS_ADMIN_PASSWORD}}\" "
            f"http://{host}:{HTTP_PORT}/nacos/v3/auth/user/admin)\n"
            "case \"$body\" in\n"
            "  *'\"code\":409'*|*'\"username\"'*) echo 'nacos admin user ready' ;;\n"
            "  *) echo 'nacos admin init failed' >&2; exit 1 ;;\n"
            "esac\n"
        )
        k8s.batch.v1.Job(
            f"{name}-admin-init",
            metadata={
                "name": "nacos-admin-init",
                "namespace": ns_name,
                "labels": job_labels,
                "annotations": {"pulumi.com/timeoutSeconds": str(STARTUP_GRACE_SECONDS * 3)},
            },
            spec={
                "backoffLimit": 6,
                "activeDeadlineSeconds": STARTUP_GRACE_SECONDS * 3,
                "template": {
                    "metadata": {"labels": job_labels},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "automountServiceAccountToken": False,
                        "securityContext": restricted_pod_security(fs_group=False),
                        "containers": [
                            {
                                "name": "admin-init",
                                "image": s.admin_init_image,
                                "command": ["sh", "-c", script],
                                "env": [
                                    {
                                        "name": "NACOS_ADMIN_PASSWORD",
                                        "valueFrom": {"secretKeyRef": {"name": AUTH_SECRET, "key": "admin-password"}},
                                    }
                                ],
                                "securityContext": restricted_container_security(),
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "16Mi"},
                                    "limits": {"cpu": "100m", "memory": "64Mi"},
                                },
                            }
                        ],
                    },
                },
            },
            opts=opts,
        )
