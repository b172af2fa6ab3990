"""Where Nacos listens: the ports its pods, Services and every network policy that reaches it agree on."""

from __future__ import annotations

from render.k8s_common import selector_labels

HTTP_PORT = 8848
CLIENT_GRPC_PORT = 9848  # 8848 + 1000
CLUSTER_GRPC_PORT = 9849  # 8848 + 1001
RAFT_PORT = 7848  # 8848 - 1000
CONSOLE_PORT = 8080


def nacos_address(namespace: str) -> str:
    """The in-cluster host:port of the Nacos client Service."""
    return f"nacos.{namespace}.svc.cluster.local:{HTTP_PORT}"


def nacos_client_egress_rule(namespace: str) -> dict:
    """Egress to the Nacos pods on the client ports (HTTP and gRPC): what agents need to register and discover."""
    return {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "podSelector": {"matchLabels": selector_labels("nacos", "registry")},
            }
        ],
        "ports": [{"protocol": "TCP", "port": HTTP_PORT}, {"protocol": "TCP", "port": CLIENT_GRPC_PORT}],
    }
