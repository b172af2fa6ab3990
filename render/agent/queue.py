"""What an agent's pods and AgentCard say about the message queue: where it is, who the agent is on it.

The agent's queue password is a key of a Secret in its tenant's namespace (`<agent>-queue`),
mounted as a file like every other credential; config.json and the environment name the file,
never the value. The AgentCard advertises the async interface next to the HTTP ones: an
`additionalInterfaces` entry with transport ROCKETMQ and an extension whose params name the task
topic of each skill, so a caller that finds the agent in Nacos finds both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from models.agent_spec import AgentSpec
from models.settings import StackConfig
from render import message_queue
from render.queue_plan import AgentQueueAccess

TRANSPORT = "ROCKETMQ"
EXTENSION_URI = "https://agent-runtime.io/a2a/extensions/rocketmq-tasks/v1"
PASSWORD_FILE = "queue-password"
PASSWORD_KEY = "password"
USERNAME_KEY = "username"


def credential_secret_name(agent: str) -> str:
    """The Secret (in the agent's tenant namespace) holding the agent's queue username and password."""
    return f"{agent}-queue"


@dataclass(frozen=True)
class QueueEndpoints:
    """Where pods reach the queue inside the cluster."""

    proxy: str  # gRPC endpoint of the proxies (host:port), what 5.x clients connect to
    name_server: str  # host:port;host:port; brokers' remoting addresses (checkpoint reads by key) come from its routes
    namespace: str  # the queue's Kubernetes namespace
    proxy_port: int
    broker_port: int
    name_server_port: int


def queue_endpoints(stack: StackConfig) -> Optional[QueueEndpoints]:
    """The in-cluster addresses of the stack's queue (render/message_queue.py), or None without one."""
    settings = stack.message_queue
    if not settings.enabled:
        return None
    return QueueEndpoints(
        proxy=message_queue.proxy_endpoint(settings),
        name_server=message_queue.namesrv_address(settings),
        namespace=settings.namespace,
        proxy_port=message_queue.PROXY_GRPC_PORT,
        broker_port=message_queue.BROKER_PORT,
        name_server_port=message_queue.NAMESRV_PORT,
    )


@dataclass(frozen=True)
class SecretKey:
    """A key of a Secret, shaped like the spec's SecretKeyRef (what CredentialFiles takes)."""

    name: str
    key: str


def runtime_block(access: AgentQueueAccess, endpoints: QueueEndpoints, password_path: str) -> dict:
    """The `queue` block of config.json: endpoints, the agent's topics and groups, the password's file."""
    return {
        "endpoint": endpoints.proxy,
        "nameServer": endpoints.name_server,
        "passwordFile": password_path,
        **access.to_env(),
    }


def env(access: AgentQueueAccess, endpoints: QueueEndpoints, password_path: str) -> list[dict]:
    """The addresses and the credential's whereabouts as environment variables (the password stays a file)."""
    return [
        {"name": "AGENT_QUEUE_ENDPOINT", "value": endpoints.proxy},
        {"name": "AGENT_QUEUE_NAME_SERVER", "value": endpoints.name_server},
        {"name": "AGENT_QUEUE_USERNAME", "value": access.username},
        {"name": "AGENT_QUEUE_PASSWORD_FILE", "value": password_path},
    ]


def egress_rule(endpoints: QueueEndpoints) -> dict:
    """The queue's proxies (tasks, results), name servers (routes) and brokers (checkpoints by key)."""
    return {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": endpoints.namespace}}}],
        "ports": [
            {"protocol": "TCP", "port": p}
            for p in (endpoints.proxy_port, endpoints.name_server_port, endpoints.broker_port)
        ],
    }


def card_interface(spec: AgentSpec, access: Optional[AgentQueueAccess], endpoints: Optional[QueueEndpoints]) -> Optional[dict]:
    """The async interface of an `async` agent for its AgentCard, or None."""
    if spec.async_ is None or access is None or endpoints is None:
        return None
    return {
        "url": f"rocketmq://{endpoints.proxy}",
        "transport": TRANSPORT,
        "extension": {
            "uri": EXTENSION_URI,
            "description": "Long tasks over RocketMQ 5: publish an A2A task to the skill's topic with your queue "
            "credential; the result comes to your own results topic (message property replyTo).",
            "required": False,
            "params": {
                "endpoint": endpoints.proxy,
                "taskTopics": dict(access.task_topics),
                "taskTimeoutSeconds": spec.async_.task_timeout_seconds,
                "maxRetries": spec.async_.retry.max_retries,
                "checkpoints": spec.async_.checkpoints,
            },
        },
    }
