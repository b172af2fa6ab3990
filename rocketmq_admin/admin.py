"""Topics, consumer groups, users and ACLs of a RocketMQ 5.3 cluster, over the remoting protocol.

This is the admin path a Pulumi dynamic provider calls (create/read/update/delete, each a few
milliseconds): it asks the name server which brokers are the cluster's masters and sends each
master the same request ``mqadmin`` would send (``updateTopic -c``, ``updateSubGroup -c``,
``createUser -c``, ``createAcl -c``), signed with the admin user's ACL 2.0 credentials.

Every failure is an ``AdminError`` naming the resource and what the server said; a topic that
exists with other settings is a ``TopicConflict`` naming the topic and the differing settings.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .remoting import Connection, RemotingError, RemotingUnreachable, parse_json

# Request codes (org.apache.rocketmq.remoting.protocol.RequestCode, 5.3.3).
UPDATE_AND_CREATE_TOPIC = 17
GET_BROKER_CLUSTER_INFO = 106
UPDATE_AND_CREATE_SUBSCRIPTIONGROUP = 200
DELETE_SUBSCRIPTIONGROUP = 207
DELETE_TOPIC_IN_BROKER = 215
DELETE_TOPIC_IN_NAMESRV = 216
GET_ROUTEINFO_BY_TOPIC = 105
GET_TOPIC_CONFIG = 351
GET_SUBSCRIPTIONGROUP_CONFIG = 352
AUTH_CREATE_USER, AUTH_UPDATE_USER, AUTH_DELETE_USER, AUTH_GET_USER = 3001, 3002, 3003, 3004
AUTH_CREATE_ACL, AUTH_UPDATE_ACL, AUTH_DELETE_ACL, AUTH_GET_ACL = 3006, 3007, 3008, 3009
# Response codes (ResponseCode, 5.3.3).
TOPIC_NOT_EXIST = 17
SUBSCRIPTION_GROUP_NOT_EXIST = 26
# Topic permission bits (PermName): read 4, write 2.
PERM_READ_WRITE = 6

MESSAGE_TYPES = ("NORMAL", "FIFO", "DELAY", "TRANSACTION")
ACTIONS = ("Pub", "Sub", "Create", "Update", "Delete", "Get", "List", "All")
# What a stack may name: RocketMQ also accepts '%', but only its own %RETRY%/%DLQ% topics use it
# (the broker took "%RETRY%x" from an admin call: measured), and it caps names at 127 characters.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,127}$")


def check_name(kind: str, name: str) -> None:
    """Refuse a name the broker would refuse or that would collide with its system names."""
    if not _NAME.match(name):
        raise AdminError(f"{kind} {name!r}: names are 1-127 of A-Z a-z 0-9 _ -")
CLEANUP_POLICIES = ("DELETE", "COMPACTION")


class AdminError(RuntimeError):
    """An admin operation failed; the message names the resource and the server's answer."""


class BrokerUnreachable(AdminError):
    """The name server or a broker did not answer (down, wrong address)."""


class TopicConflict(AdminError):
    """A topic of that name exists with other settings: refused, never overwritten."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    queues: int = 4  # read and write queues alike, as a 5.x client expects
    message_type: str = "NORMAL"
    cleanup_policy: str = "DELETE"  # COMPACTION: a compacted topic (kept per message key)
    perm: int = PERM_READ_WRITE

    def attributes(self, existing: "TopicSpec | None" = None) -> str:
        """The ``attributes`` header: ``+key=value`` adds or changes an attribute.

        On an existing topic cleanup.policy is sent only when it changes: the broker refuses
        any mention of an unchangeable attribute, even with the value it already has."""
        attrs = [f"+message.type={self.message_type}"]
        if existing is None or existing.cleanup_policy != self.cleanup_policy:
            attrs.append(f"+cleanup.policy={self.cleanup_policy}")
        return ",".join(attrs)

    def validate(self) -> None:
        check_name("topic", self.name)
        if self.message_type not in MESSAGE_TYPES:
            raise AdminError(f"topic {self.name}: message type {self.message_type!r} is not one of "
                             f"{', '.join(MESSAGE_TYPES)}")
        if self.cleanup_policy not in CLEANUP_POLICIES:
            raise AdminError(f"topic {self.name}: cleanup policy {self.cleanup_policy!r} is not one "
                             f"of {', '.join(CLEANUP_POLICIES)}")
        if not 1 <= self.queues <= 1024:
            raise AdminError(f"topic {self.name}: queues must be 1..1024, not {self.queues}")


@dataclass(frozen=True)
class RetryPolicy:
    """Redelivery back-off of a group: exponential (initial * multiplier^n, capped) or explicit."""
    kind: str = "CUSTOMIZED"  # or EXPONENTIAL
    initial_ms: int = 1000
    max_ms: int = 60000
    multiplier: int = 2
    next_ms: tuple[int, ...] = ()  # CUSTOMIZED: the delays in order (empty: the broker's default)

    def to_wire(self) -> dict[str, Any]:
        if self.kind == "EXPONENTIAL":
            return {"type": "EXPONENTIAL", "exponentialRetryPolicy": {
                "initial": self.initial_ms, "max": self.max_ms, "multiplier": self.multiplier}}
        wire: dict[str, Any] = {"type": "CUSTOMIZED"}
        if self.next_ms:
            wire["customizedRetryPolicy"] = {"next": list(self.next_ms)}
        return wire


@dataclass(frozen=True)
class GroupSpec:
    name: str
    max_retries: int = 16  # after this many redeliveries a message goes to %DLQ%<group>
    orderly: bool = False  # FIFO consumption
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    consume_enable: bool = True

    def to_wire(self) -> dict[str, Any]:
        return {"groupName": self.name, "consumeEnable": self.consume_enable,
                "consumeMessageOrderly": self.orderly, "retryMaxTimes": self.max_retries,
                "groupRetryPolicy": self.retry_policy.to_wire()}


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str = field(repr=False)
    user_type: str = "Normal"  # or Super (only a super user may create one)


@dataclass(frozen=True)
class AclEntry:
    resource: str  # Topic:<name>, Group:<name>, a trailing * for a prefix, or Topic:* for all
    actions: tuple[str, ...]  # Pub, Sub, Create, Update, Delete, Get, List, All
    decision: str = "Allow"  # or Deny
    source_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class AclSpec:
    username: str
    entries: tuple[AclEntry, ...]

    @property
    def subject(self) -> str:
        return f"User:{self.username}"

    def to_wire(self) -> dict[str, Any]:
        return {"subject": self.subject, "policies": [{"policyType": "Custom", "entries": [
            {"resource": e.resource, "actions": list(e.actions), "decision": e.decision,
             **({"sourceIps": list(e.source_ips)} if e.source_ips else {})}
            for e in self.entries]}]}


class RocketMQAdmin:
    """Admin of one cluster through its name server, with an ACL 2.0 admin (super) user."""

    def __init__(self, namesrv_addr: str, cluster: str, access_key: str, secret_key: str,
                 timeout: float = 10.0, brokers: list[str] | None = None):
        """``brokers``: the masters' addresses as this process reaches them, when the ones the
        name server hands out (the brokers' advertised brokerIP1, pod IPs on Kubernetes) are not
        reachable from here."""
        self.namesrv_addr = namesrv_addr
        self.brokers = list(brokers or [])
        self.cluster = cluster
        self.access_key = access_key
        self.secret_key = secret_key
        self.timeout = timeout
        self._conns: dict[str, Connection] = {}

    # -- plumbing
    def _conn(self, addr: str) -> Connection:
        if addr not in self._conns:
            self._conns[addr] = Connection(addr, self.access_key, self.secret_key, self.timeout)
        return self._conns[addr]

    def _call(self, addr: str, what: str, code: int, fields: dict[str, Any] | None = None,
              body: Any = None, ok: tuple[int, ...] = (0,)):
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        try:
            return self._conn(addr).request(what, code, fields, raw, ok)
        except RemotingUnreachable as e:
            raise BrokerUnreachable(f"{what}: {e}") from e
        except RemotingError as e:
            raise AdminError(f"{what}: {e.remark or 'code ' + str(e.code)} "
                             f"(code {e.code} from {addr})") from e

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def __enter__(self) -> "RocketMQAdmin":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def masters(self) -> list[str]:
        """The cluster's master broker addresses, as the name server knows them now (or as given)."""
        if self.brokers:
            return self.brokers
        answer = self._call(self.namesrv_addr, f"cluster {self.cluster}: broker list",
                            GET_BROKER_CLUSTER_INFO)
        info = parse_json(answer.body)
        names = (info.get("clusterAddrTable") or {}).get(self.cluster) or []
        table = info.get("brokerAddrTable") or {}
        addrs = [table[n]["brokerAddrs"]["0"] for n in sorted(names)
                 if "0" in (table.get(n, {}).get("brokerAddrs") or {})]
        if not addrs:
            raise AdminError(f"cluster {self.cluster}: no master broker registered at name server "
                             f"{self.namesrv_addr} (clusters there: {sorted(info.get('clusterAddrTable') or {})})")
        return addrs

    # -- topics
    def get_topic(self, name: str) -> TopicSpec | None:
        """The topic as the first master holds it, or None."""
        answer = self._call(self.masters()[0], f"topic {name}: read", GET_TOPIC_CONFIG,
                            {"topic": name}, ok=(0, TOPIC_NOT_EXIST))
        if answer.code == TOPIC_NOT_EXIST:
            return None
        conf = parse_json(answer.body)
        conf = conf.get("topicConfig", conf)
        attrs = conf.get("attributes") or {}
        return TopicSpec(name=conf["topicName"], queues=conf["writeQueueNums"],
                         message_type=attrs.get("message.type", "NORMAL"),
                         cleanup_policy=attrs.get("cleanup.policy", "DELETE"), perm=conf["perm"])

    def create_topic(self, spec: TopicSpec) -> TopicSpec:
        """Create on every master; an existing topic with the same settings is adopted, one with
        other settings is refused (TopicConflict naming it), never changed."""
        spec.validate()
        existing = self.get_topic(spec.name)
        if existing is not None:
            if existing != spec:
                raise TopicConflict(f"topic {spec.name} already exists with other settings: "
                                    f"{_differences(existing, spec)}")
            return existing
        return self._put_topic(spec, "create")

    def update_topic(self, spec: TopicSpec) -> TopicSpec:
        """Change queues, perm or message type; the broker refuses a cleanup-policy change."""
        spec.validate()
        existing = self.get_topic(spec.name)
        if existing is None:
            raise AdminError(f"topic {spec.name}: update: it does not exist")
        return self._put_topic(spec, "update", existing)

    def _put_topic(self, spec: TopicSpec, verb: str,
                   existing: TopicSpec | None = None) -> TopicSpec:
        fields = {"topic": spec.name, "defaultTopic": "TBW102", "readQueueNums": spec.queues,
                  "writeQueueNums": spec.queues, "perm": spec.perm,
                  "topicFilterType": "SINGLE_TAG", "topicSysFlag": 0,
                  "order": spec.message_type == "FIFO", "attributes": spec.attributes(existing)}
        for addr in self.masters():
            self._call(addr, f"topic {spec.name}: {verb}", UPDATE_AND_CREATE_TOPIC, fields)
        return spec

    def delete_topic(self, name: str) -> bool:
        """Delete from every master and from the name server; False when it did not exist."""
        existed = self.get_topic(name) is not None
        for addr in self.masters():
            self._call(addr, f"topic {name}: delete", DELETE_TOPIC_IN_BROKER, {"topic": name})
        self._call(self.namesrv_addr, f"topic {name}: delete route", DELETE_TOPIC_IN_NAMESRV,
                   {"topic": name, "clusterName": self.cluster})
        return existed

    def topic_routed(self, name: str) -> bool:
        """Whether the name server routes the topic (what clients look up)."""
        answer = self._call(self.namesrv_addr, f"topic {name}: route", GET_ROUTEINFO_BY_TOPIC,
                            {"topic": name}, ok=(0, TOPIC_NOT_EXIST))
        return answer.code == 0

    # -- consumer groups
    def get_group(self, name: str) -> GroupSpec | None:
        answer = self._call(self.masters()[0], f"group {name}: read", GET_SUBSCRIPTIONGROUP_CONFIG,
                            {"group": name}, ok=(0, SUBSCRIPTION_GROUP_NOT_EXIST))
        if answer.code == SUBSCRIPTION_GROUP_NOT_EXIST:
            return None
        conf = parse_json(answer.body)
        return GroupSpec(name=conf["groupName"], max_retries=conf["retryMaxTimes"],
                         orderly=conf["consumeMessageOrderly"],
                         retry_policy=_retry_policy(conf.get("groupRetryPolicy") or {}),
                         consume_enable=conf["consumeEnable"])

    def put_group(self, spec: GroupSpec) -> GroupSpec:
        """Create or update (the broker's call does both) on every master."""
        check_name("group", spec.name)
        if spec.max_retries < 0:
            raise AdminError(f"group {spec.name}: max retries must be >= 0")
        for addr in self.masters():
            self._call(addr, f"group {spec.name}: put", UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
                       body=spec.to_wire())
        return spec

    def delete_group(self, name: str) -> bool:
        existed = self.get_group(name) is not None
        for addr in self.masters():
            self._call(addr, f"group {name}: delete", DELETE_SUBSCRIPTIONGROUP,
                       {"groupName": name, "cleanOffset": True})
        return existed

    # -- users (ACL 2.0)
    def get_user(self, username: str) -> dict[str, Any] | None:
        """The user as the broker holds it (username, userType, userStatus; the password is
        returned too, as mqadmin getUser shows it), or None."""
        answer = self._call(self.masters()[0], f"user {username}: read", AUTH_GET_USER,
                            {"username": username})
        return parse_json(answer.body) if answer.body else None

    def create_user(self, spec: UserSpec) -> None:
        self._user(AUTH_CREATE_USER, "create", spec)

    def update_user(self, spec: UserSpec) -> None:
        self._user(AUTH_UPDATE_USER, "update", spec)

    def _user(self, code: int, verb: str, spec: UserSpec) -> None:
        check_name("user", spec.username)
        body = {"username": spec.username, "password": spec.password, "userType": spec.user_type}
        for addr in self.masters():
            self._call(addr, f"user {spec.username}: {verb}", code, {"username": spec.username},
                       body)

    def delete_user(self, username: str) -> None:
        for addr in self.masters():
            self._call(addr, f"user {username}: delete", AUTH_DELETE_USER, {"username": username})

    # -- ACLs (ACL 2.0)
    def get_acl(self, username: str) -> dict[str, Any] | None:
        """The user's ACL, or None. The broker answers NO_PERMISSION (16) "The subject is not
        exist." when the user is gone, and an empty body when the user has no ACL."""
        try:
            answer = self._call(self.masters()[0], f"acl of {username}: read", AUTH_GET_ACL,
                                {"subject": f"User:{username}"})
        except AdminError as e:
            cause = e.__cause__
            if isinstance(cause, RemotingError) and "subject is not exist" in (cause.remark or ""):
                return None
            raise
        return parse_json(answer.body) if answer.body else None

    def create_acl(self, spec: AclSpec) -> None:
        self._acl(AUTH_CREATE_ACL, "create", spec)

    def update_acl(self, spec: AclSpec) -> None:
        self._acl(AUTH_UPDATE_ACL, "update", spec)

    def _acl(self, code: int, verb: str, spec: AclSpec) -> None:
        if not spec.entries:
            raise AdminError(f"acl of {spec.username}: {verb}: no entries")
        for entry in spec.entries:  # the broker drops unknown actions and says "actions is empty"
            unknown = sorted(set(entry.actions) - set(ACTIONS))
            if unknown or not entry.actions:
                raise AdminError(f"acl of {spec.username}: {entry.resource}: actions must be some "
                                 f"of {', '.join(ACTIONS)}, not {unknown or 'none'}")
        for addr in self.masters():
            self._call(addr, f"acl of {spec.username}: {verb}", code, {"subject": spec.subject},
                       spec.to_wire())

    def delete_acl(self, username: str, resources: Iterable[str] = ()) -> None:
        """Delete the user's ACL entries on ``resources``, or the whole ACL when none is named."""
        for addr in self.masters():
            for resource in list(resources) or [None]:
                self._call(addr, f"acl of {username}: delete {resource or 'all'}", AUTH_DELETE_ACL,
                           {"subject": f"User:{username}", "policyType": "Custom",
                            "resource": resource})


def _retry_policy(wire: dict[str, Any]) -> RetryPolicy:
    if wire.get("type") == "EXPONENTIAL":
        exp = wire.get("exponentialRetryPolicy") or {}
        return RetryPolicy(kind="EXPONENTIAL", initial_ms=exp.get("initial", 1000),
                           max_ms=exp.get("max", 60000), multiplier=exp.get("multiplier", 2))
    custom = wire.get("customizedRetryPolicy") or {}
    return RetryPolicy(kind="CUSTOMIZED", next_ms=tuple(custom.get("next") or ()))


def _differences(existing: TopicSpec, wanted: TopicSpec) -> str:
    have, want = asdict(existing), asdict(wanted)
    return ", ".join(f"{k} is {have[k]!r}, declared {want[k]!r}" for k in want if have[k] != want[k])
