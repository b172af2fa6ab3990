"""NacosCluster: the Nacos 3.1 registry (services, MCP Registry, A2A AgentCards) as a StatefulSet.

Auth is always on. The JWT signing token, the cluster identity and the admin
password come from the stack's Pulumi secrets or are generated with
pulumi-random; they live only in one Kubernetes Secret and reach the pods through
secretKeyRef, so no manifest or ConfigMap carries them. What each object says is
rendered in render/nacos.py; this component creates the objects and the secrets.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.settings import NacosSettings, PlatformSecrets
from render.k8s_common import default_deny_spec
from render.nacos import (
    ADMIN_INIT,
    APP,
    AUTH_SECRET,
    HEADLESS_SERVICE,
    HTTP_PORT,
    IDENTITY_KEY,
    access_policy_spec,
    admin_init_annotations,
    admin_init_job_spec,
    admin_init_labels,
    admin_init_policy_spec,
    client_service_spec,
    disruption_budget_spec,
    headless_service_spec,
    namespace_labels,
    registry_labels,
    statefulset_spec,
)


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
        labels = registry_labels(args.labels)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns_name, "labels": namespace_labels(labels)},
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

        k8s.core.v1.Service(
            f"{name}-headless",
            metadata={"name": HEADLESS_SERVICE, "namespace": ns_name, "labels": labels},
            spec=headless_service_spec(),
            opts=ns_opts,
        )
        client_service = k8s.core.v1.Service(
            f"{name}-client",
            metadata={"name": APP, "namespace": ns_name, "labels": labels},
            spec=client_service_spec(),
            opts=ns_opts,
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={"name": APP, "namespace": ns_name, "labels": labels},
            automount_service_account_token=False,
            opts=ns_opts,
        )

        statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata={"name": APP, "namespace": ns_name, "labels": labels},
            spec=statefulset_spec(s, labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, auth_secret, service_account]),
        )

        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata={"name": APP, "namespace": ns_name, "labels": labels},
            spec=disruption_budget_spec(),
            opts=ns_opts,
        )

        self._network_policies(name, s, labels, args.gateway_namespace, ns_opts)
        self._admin_init_job(name, s, pulumi.ResourceOptions(parent=self, depends_on=[statefulset, auth_secret]))

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

    def _network_policies(self, name: str, s: NacosSettings, labels: dict, gateway_namespace: str, opts) -> None:
        """Default-deny for the namespace, then: gateway, tenant agents, peers, the admin-init job."""

        def policy(suffix: str, object_name: str, spec: dict) -> None:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{suffix}",
                metadata={"name": object_name, "namespace": s.namespace, "labels": labels},
                spec=spec,
                opts=opts,
            )

        policy("default-deny", "default-deny", default_deny_spec())
        policy("access", "nacos-access", access_policy_spec(s, gateway_namespace))
        policy("admin-init-egress", ADMIN_INIT, admin_init_policy_spec())

    def _admin_init_job(self, name: str, s: NacosSettings, opts) -> None:
        """The Job that creates the admin user on first boot; it waits for the StatefulSet and the Secret."""
        k8s.batch.v1.Job(
            f"{name}-admin-init",
            metadata={
                "name": ADMIN_INIT,
                "namespace": s.namespace,
                "labels": admin_init_labels(),
                "annotations": admin_init_annotations(),
            },
            spec=admin_init_job_spec(s),
            opts=opts,
        )
