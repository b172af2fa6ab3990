"""Message-queue admin settings: the one model the stack config and the provider's configure() share.

Stack config ``agent-runtime:messageQueue`` is a JSON object; its ``admin`` member is
``QueueAdminSettings`` (how the process running ``pulumi up`` reaches the RocketMQ cluster as its
admin). The other members of ``messageQueue`` belong to the program (components, models) and are
ignored here. Neither secret is part of that block: ``messageQueueAdminPassword`` (the broker's
ACL 2.0 admin password) and ``messageQueueCredentialSeed`` (from which every agent's queue
password is derived, see credentials.py) are read by the provider process in configure(), so
they never land in resource state.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

PROJECT = "agent-runtime"
SETTINGS_KEY = "messageQueue"
ADMIN_MEMBER = "admin"
PASSWORD_KEY = "messageQueueAdminPassword"
SEED_KEY = "messageQueueCredentialSeed"
MIN_SEED_LENGTH = 16
DEFAULT_CLUSTER = "agent-runtime"

_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(?P<port>\d{1,5})$")


def check_host_port(value: str) -> str:
    """``host:port`` as RocketMQ's remoting clients take it (a name or IPv4 address, no scheme)."""
    match = _HOST_PORT.match(value or "")
    if not match or not 0 < int(match["port"]) < 65536:
        raise ValueError(f"{value!r} must be host:port, e.g. 127.0.0.1:9876 (no scheme, port 1-65535)")
    return value


HostPort = Annotated[str, AfterValidator(check_host_port)]


class QueueAdminSettings(BaseModel):
    """``messageQueue.admin``: the cluster's name server, its masters as this machine reaches
    them (optional: when the addresses the name server hands out, pod IPs on Kubernetes, are not
    reachable from where ``pulumi up`` runs), the cluster name and the admin (super) user."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    namesrv_addr: Optional[HostPort] = None
    brokers: list[HostPort] = []
    # default: the queue's own `messageQueue.cluster` (the cluster the stack deploys)
    cluster: Optional[str] = Field(default=None, min_length=1)
    admin_user: str = Field(default="rocketmq-admin", min_length=1)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)


class QueueConfigError(Exception):
    """The stack's message-queue configuration is missing or invalid; the message names the key and the fix."""


@dataclass(frozen=True)
class QueueConnection:
    """What the provider needs to administer the cluster (secrets never printed)."""

    namesrv_addr: str
    brokers: tuple[str, ...]
    cluster: str
    admin_user: str
    admin_password: str = field(repr=False)
    credential_seed: str = field(repr=False)
    timeout_seconds: float = 10.0

    @property
    def endpoint(self) -> str:
        """Where the admin calls go, for messages."""
        where = f"name server {self.namesrv_addr}"
        return f"{where}, brokers {', '.join(self.brokers)}" if self.brokers else where


def _admin_block(raw: Any) -> dict:
    """The ``admin`` member of ``messageQueue`` (a JSON string or an object, as the engine hands it over)."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except json.JSONDecodeError as exc:
        raise QueueConfigError(f"{PROJECT}:{SETTINGS_KEY} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise QueueConfigError(f"{PROJECT}:{SETTINGS_KEY} must be an object with an `{ADMIN_MEMBER}` member")
    admin = value.get(ADMIN_MEMBER) or {}
    if not isinstance(admin, dict):
        raise QueueConfigError(f"{PROJECT}:{SETTINGS_KEY}.{ADMIN_MEMBER} must be an object")
    if admin.get("cluster") is None:
        # the cluster the stack deploys (messageQueue.cluster, default as in models/settings.py)
        admin = {**admin, "cluster": value.get("cluster") or DEFAULT_CLUSTER}
    return admin


def connection_from_config(get: Callable[[str], Any]) -> QueueConnection:
    """Build the connection from a config getter taking unprefixed keys (used in configure())."""
    try:
        settings = QueueAdminSettings.model_validate(_admin_block(get(SETTINGS_KEY)))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or ADMIN_MEMBER}: {e['msg']}"
                             for e in exc.errors(include_url=False))
        raise QueueConfigError(f"{PROJECT}:{SETTINGS_KEY}.{ADMIN_MEMBER} is invalid: {problems}") from None
    if not settings.namesrv_addr:
        raise QueueConfigError(
            f"{PROJECT}:{SETTINGS_KEY}.{ADMIN_MEMBER}.namesrvAddr is not set: the provider cannot reach RocketMQ "
            "(set it to the name server's host:port as this machine reaches it)"
        )
    password = get(PASSWORD_KEY)
    if not password:
        raise QueueConfigError(
            f"{PROJECT}:{PASSWORD_KEY} is not set: `pulumi config set --secret {PASSWORD_KEY} <the broker's admin "
            f"password>` (or `venv/bin/python scripts/stack.py init-secrets --stack <s>` for a new cluster)"
        )
    seed = get(SEED_KEY)
    if not seed:
        raise QueueConfigError(
            f"{PROJECT}:{SEED_KEY} is not set: `venv/bin/python scripts/stack.py init-secrets --stack <s>` "
            f"(or `pulumi config set --secret {SEED_KEY} <at least {MIN_SEED_LENGTH} random characters>`)"
        )
    if len(seed) < MIN_SEED_LENGTH:
        raise QueueConfigError(
            f"{PROJECT}:{SEED_KEY} is shorter than {MIN_SEED_LENGTH} characters: every agent's queue password is "
            f"derived from it; `pulumi config set --secret {SEED_KEY} <at least {MIN_SEED_LENGTH} random characters>`"
        )
    return QueueConnection(
        namesrv_addr=settings.namesrv_addr,
        brokers=tuple(settings.brokers),
        cluster=settings.cluster,
        admin_user=settings.admin_user,
        admin_password=password,
        credential_seed=seed,
        timeout_seconds=settings.timeout_seconds,
    )


def getter_from_mapping(values: dict[str, Any]) -> Callable[[str], Optional[str]]:
    """Adapter for tests and tools: a plain mapping of unprefixed keys."""
    def get(key: str) -> Optional[str]:
        value = values.get(key)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)
    return get
