"""MessageQueue: Apache RocketMQ 5.3.3 (official image) for agents' long tasks: name servers, broker
groups, gRPC proxies, ACL 2.0 on.

What each object says is rendered in render/message_queue.py; this component creates the
objects. The admin password (the stack secret `messageQueueAdminPassword`) reaches only the one
Secret (ADMIN_SECRET), whose files the brokers and proxies mount; the admin user name is
`messageQueue.admin.adminUser`. Outputs are what the helper that wires agents to the queue needs.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict

from models.settings import MessageQueueSettings
from render.k8s_common import default_deny_spec
from render.message_queue import (
    ADMIN_SECRET,
    CONFIG_MAP,
    NAMESRV,
    PROXY,
    SERVICE_ACCOUNT,
    broker_addresses,
    broker_service_spec,
    broker_statefulset_name,
    broker_statefulset_spec,
    config_map_data,
    disruption_budgets,
    namespace_labels,
    namesrv_address,
    namesrv_service_spec,
    namesrv_statefulset_spec,
    network_policy_specs,
    proxy_deployment_spec,
    proxy_endpoint,
    proxy_service_spec,
    queue_labels,
    role_labels,
    secret_string_data,
)


class MessageQueueArgs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    settings: MessageQueueSettings
    # the stack secret messageQueueAdminPassword, as a Pulumi secret
    admin_password: pulumi.Output
    labels: dict[str, str] = {}


class MessageQueue(pulumi.ComponentResource):
    """RocketMQ in its own restricted namespace; only agents in tenant namespaces reach its proxies and brokers."""

    namespace: pulumi.Output[str]
    proxy_endpoint: pulumi.Output[str]
    namesrv_address: pulumi.Output[str]
    broker_addresses: pulumi.Output[list]
    admin_secret_name: pulumi.Output[str]
    admin_user: str

    def __init__(self, name: str, args: MessageQueueArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("agent-runtime:platform:MessageQueue", name, None, opts)
        s = args.settings
        ns = s.namespace
        labels = queue_labels(args.labels)
        self.admin_user = s.admin.admin_user

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": ns, "labels": namespace_labels(labels)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        ns_opts = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        def meta(object_name: str, object_labels: Optional[dict] = None) -> dict:
            return {"name": object_name, "namespace": ns, "labels": object_labels or labels}

        password = pulumi.Output.secret(args.admin_password)
        admin_secret = k8s.core.v1.Secret(
            f"{name}-admin",
            metadata=meta(ADMIN_SECRET),
            type="Opaque",
            string_data=pulumi.Output.secret(
                password.apply(lambda pw: secret_string_data(s.acl, s.admin.admin_user, pw))
            ),
            opts=ns_opts,
        )
        config = k8s.core.v1.ConfigMap(f"{name}-config", metadata=meta(CONFIG_MAP), data=config_map_data(s), opts=ns_opts)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta(SERVICE_ACCOUNT), automount_service_account_token=False, opts=ns_opts
        )
        pods_opts = pulumi.ResourceOptions(parent=self, depends_on=[namespace, config, admin_secret, account])

        # name servers (and in HA the controllers)
        namesrv_labels = role_labels("name-server", args.labels)
        k8s.core.v1.Service(f"{name}-namesrv", metadata=meta(NAMESRV, namesrv_labels), spec=namesrv_service_spec(s), opts=ns_opts)
        namesrv = k8s.apps.v1.StatefulSet(
            f"{name}-namesrv",
            metadata=meta(NAMESRV, namesrv_labels),
            spec=namesrv_statefulset_spec(s, args.labels),
            opts=pods_opts,
        )

        # broker groups, after the name servers they register with
        broker_opts = pulumi.ResourceOptions(parent=self, depends_on=[namespace, config, admin_secret, account, namesrv])
        brokers = []
        for i in range(s.broker_groups):
            sts_name = broker_statefulset_name(i)
            group_labels = role_labels("broker", args.labels, f"broker-{i}")
            k8s.core.v1.Service(f"{name}-{sts_name}", metadata=meta(sts_name, group_labels), spec=broker_service_spec(i), opts=ns_opts)
            brokers.append(
                k8s.apps.v1.StatefulSet(
                    f"{name}-{sts_name}",
                    metadata=meta(sts_name, group_labels),
                    spec=broker_statefulset_spec(s, i, args.labels),
                    opts=broker_opts,
                )
            )

        proxy_labels = role_labels("proxy", args.labels)
        proxy_service = k8s.core.v1.Service(
            f"{name}-proxy", metadata=meta(PROXY, proxy_labels), spec=proxy_service_spec(), opts=ns_opts
        )
        k8s.apps.v1.Deployment(
            f"{name}-proxy",
            metadata=meta(PROXY, proxy_labels),
            spec=proxy_deployment_spec(s, args.labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, config, admin_secret, account, *brokers]),
        )

        for object_name, spec in disruption_budgets(s).items():
            k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb-{object_name}", metadata=meta(object_name), spec=spec, opts=ns_opts)

        policies = {"default-deny": default_deny_spec(), **network_policy_specs()}
        for object_name, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(f"{name}-netpol-{object_name}", metadata=meta(object_name), spec=spec, opts=ns_opts)

        self.namespace = namespace.metadata.name
        self.proxy_endpoint = proxy_service.metadata.name.apply(lambda _: proxy_endpoint(s))
        self.namesrv_address = namesrv.metadata.name.apply(lambda _: namesrv_address(s))
        self.broker_addresses = pulumi.Output.all(*[b.metadata.name for b in brokers]).apply(lambda _: broker_addresses(s))
        self.admin_secret_name = admin_secret.metadata.name
        self.register_outputs(
            {
                "namespace": self.namespace,
                "proxy_endpoint": self.proxy_endpoint,
                "namesrv_address": self.namesrv_address,
                "broker_addresses": self.broker_addresses,
                "admin_secret_name": self.admin_secret_name,
            }
        )
