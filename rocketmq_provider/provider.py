"""Dynamic providers that keep RocketMQ topics, consumer groups and ACL 2.0 users true to the stack.

This module is pickled BY REFERENCE into every resource's `__provider` input (as is the package
`rocketmq_provider`): never rename or move it once stacks exist.

Rules kept here (the broker's real semantics are in docs/rocketmq-observed.md):
- check/diff run during preview and make no network call; only create/read/update/delete talk
  to the cluster, through rocketmq_admin (the remoting protocol, a few ms per call).
- create adopts an identical topic, group or user that already exists and refuses, naming it and
  what differs, a different one; it never changes what another owner made.
- credentials are read in configure() from the stack's secret config and never written to inputs
  or outputs: the admin password, and the seed every agent's password is derived from
  (credentials.py), so no password is in state.
- read returns what the broker holds, so `pulumi refresh` shows drift.
- errors the provider raises on purpose (cluster down, refused, conflicting, not configured) are
  shown as one line naming the endpoint and the resource (host_errors.py), never as a traceback.
"""

from __future__ import annotations

import copy
import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from pulumi.runtime.rpc import UNKNOWN
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from rocketmq_admin import (AclEntry, AclSpec, AdminError, BrokerUnreachable, GroupSpec, RetryPolicy,
                            RocketMQAdmin, TopicConflict, TopicSpec, UserSpec)
from rocketmq_admin.admin import ACTIONS, CLEANUP_POLICIES, MESSAGE_TYPES, check_name
from rocketmq_admin.remoting import RemotingError
from rocketmq_provider.credentials import derive_password
from rocketmq_provider.host_errors import report_by_message
from rocketmq_provider.settings import (PASSWORD_KEY, PROJECT, SEED_KEY, SETTINGS_KEY, QueueConfigError,
                                        QueueConnection, connection_from_config)


class QueueConflict(AdminError):
    """A group or user of that name exists and is not this stack's: refused, never changed."""


OPERATIONAL_ERRORS = (AdminError, QueueConfigError)
report_by_message(*OPERATIONAL_ERRORS)

PROVIDER_KEY = "__provider"
TOPIC_KINDS = ("tasks", "results", "checkpoints")
RETRY_KINDS = ("EXPONENTIAL", "CUSTOMIZED")
DECISIONS = ("Allow", "Deny")
EXPONENTIAL_DEFAULTS = {"initialMs": 1000, "maxMs": 60000, "multiplier": 2}
# ACL 2.0 resources an agent's user may be given: a topic or group, by name, prefix (name*) or all (*).
# a topic's dead letters are the broker's own %DLQ%<group> topic (made at the first dead letter;
# an ACL on it is accepted: docs/rocketmq-observed.md, "Behaviour of the plan")
_ACL_RESOURCE = re.compile(r"^(Topic|Group):([A-Za-z0-9_-]{1,127}\*?|\*)$|^Topic:%DLQ%[A-Za-z0-9_-]{1,122}$")
_CALLER = re.compile(r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$")


# ------------------------------------------------------------------ pure helpers (check/diff/read)


def _unknown(value: Any) -> bool:
    """Whether a value is (or holds) an output not known yet: during preview the engine sends
    Pulumi's UNKNOWN sentinel for inputs computed from other resources."""
    if isinstance(value, dict):
        return any(_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknown(v) for v in value)
    return value == UNKNOWN


def _checked(news: dict, failures: list[CheckFailure]) -> CheckResult:
    """Failures about values not known yet are dropped: they are checked again once known."""
    return CheckResult(news, [f for f in failures if not _unknown(news.get(f.property.split(".")[0]))])


def _as_int_or_keep(value: Any) -> Any:
    number = as_int(value)
    return value if number is None else number


def as_int(value: Any) -> Optional[int]:
    """An integer from the engine (numbers cross gRPC as floats: 4 arrives as 4.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _name_failure(prop: str, kind: str, value: Any) -> Optional[CheckFailure]:
    if not isinstance(value, str):
        return CheckFailure(prop, f"must be a {kind} name (a string)")
    try:
        check_name(kind, value)
    except AdminError as exc:
        return CheckFailure(prop, str(exc))
    return None


def _range_failure(prop: str, value: Any, low: int, high: int) -> Optional[CheckFailure]:
    number = as_int(value)
    if number is None or not low <= number <= high:
        return CheckFailure(prop, f"must be an integer {low}..{high}, not {value!r}")
    return None


def _descriptive_failures(news: dict, props: tuple[str, ...]) -> list[CheckFailure]:
    return [CheckFailure(p, "must be a non-empty string") for p in props
            if p in news and news[p] is not None and (not isinstance(news[p], str) or not news[p])]


def retry_view(policy: Any) -> Any:
    """A retry policy in the form read back from the broker: EXPONENTIAL with its three numbers,
    CUSTOMIZED with its delays (the broker keeps nothing else for it)."""
    if not isinstance(policy, dict):
        return policy
    kind = policy.get("kind", "EXPONENTIAL")
    if kind == "EXPONENTIAL":
        return {"kind": kind, **{k: as_int(policy.get(k, d)) for k, d in EXPONENTIAL_DEFAULTS.items()}}
    return {"kind": kind, "nextMs": [as_int(v) for v in policy.get("nextMs") or []]}


def entry_view(entry: Any) -> Any:
    """An ACL entry in the broker's form: actions sorted, decision spelled out."""
    if not isinstance(entry, dict):
        return entry
    view = {"resource": entry.get("resource"), "actions": sorted(entry.get("actions") or []),
            "decision": entry.get("decision") or "Allow"}
    if entry.get("sourceIps"):
        view["sourceIps"] = sorted(entry["sourceIps"])
    return view


def entries_view(entries: Any) -> Any:
    if not isinstance(entries, list):
        return entries
    return sorted((entry_view(e) for e in entries), key=lambda e: str(e.get("resource") if isinstance(e, dict) else e))


def acl_entries(acl: Optional[dict]) -> Optional[list[dict]]:
    """The Custom-policy entries of an ACL as the broker answers it (None: no ACL)."""
    if acl is None:
        return None
    entries = [e for p in acl.get("policies") or [] if p.get("policyType", "Custom") == "Custom"
               for e in p.get("entries") or []]
    return entries_view(entries)


def _acl_spec(username: str, entries: list[dict]) -> AclSpec:
    return AclSpec(username, tuple(AclEntry(e["resource"], tuple(e["actions"]), e.get("decision") or "Allow",
                                            tuple(e.get("sourceIps") or ())) for e in entries_view(entries)))


# ------------------------------------------------------------------ shared plumbing


class _QueueProvider(ResourceProvider):
    """Configuration from the stack, a fresh admin client per operation, a pure diff."""

    resource_kind = "queue resource"
    ident_input = ""  # the input that names the resource on the broker
    inputs_that_replace: tuple[str, ...] = ()
    compared_inputs: tuple[str, ...] = ()

    def configure(self, req: ConfigureRequest) -> None:
        def get(key: str) -> Optional[str]:
            return req.config.get(f"{PROJECT}:{key}")

        try:
            self._connection: Optional[QueueConnection] = connection_from_config(get)
            self._config_error: Optional[str] = None
        except QueueConfigError as exc:
            self._connection = None
            self._config_error = str(exc)

    def _conn(self) -> QueueConnection:
        connection = getattr(self, "_connection", None)
        if connection is None:
            raise QueueConfigError(getattr(self, "_config_error", None)
                                   or f"{PROJECT}:{SETTINGS_KEY} is not configured for this stack")
        return connection

    def _ident(self, props: dict) -> str:
        return str(props.get(self.ident_input) or "")

    def _what(self, props: dict) -> str:
        return f"{self.resource_kind} {self._ident(props)!r}"

    @contextmanager
    def _admin(self, props: dict) -> Iterator[RocketMQAdmin]:
        """An admin client for one operation; its failures re-raised naming the endpoint and the resource."""
        conn = self._conn()
        what = self._what(props)
        admin = RocketMQAdmin(conn.namesrv_addr, conn.cluster, conn.admin_user, conn.admin_password,
                              timeout=conn.timeout_seconds, brokers=list(conn.brokers))
        try:
            yield admin
        except BrokerUnreachable as exc:
            raise BrokerUnreachable(f"{what}: RocketMQ is unreachable ({conn.endpoint}): {exc}") from None
        except AdminError as exc:
            cause = exc.__cause__
            remark = cause.remark if isinstance(cause, RemotingError) else None
            if remark and ("check signature failed" in remark or f"User:{conn.admin_user} is not found" in remark):
                raise AdminError(
                    f"{what}: the broker at {cause.addr} refused the admin user {conn.admin_user!r} ({remark.rstrip('.')}): "
                    f"set {PROJECT}:{PASSWORD_KEY} to this cluster's admin password "
                    f"(`pulumi config set --secret {PASSWORD_KEY} ...`) and {SETTINGS_KEY}.admin.adminUser to its user"
                ) from None
            ident = self._ident(props)
            if ident and ident not in str(exc):  # e.g. "cluster C: no master broker registered ..."
                raise type(exc)(f"{what}: {exc}") from None
            raise
        finally:
            admin.close()

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        """Pure comparison of inputs (never __provider: it changes with every code change).

        `olds` are the outputs in state; each input is compared in the form the outputs keep it."""
        changed = [k for k in self.compared_inputs
                   if self.comparable(k, olds.get(k)) != self.comparable(k, news.get(k))]
        replaces = [k for k in changed if k in self.inputs_that_replace]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in self.inputs_that_replace if k not in replaces],
            delete_before_replace=bool(replaces),
        )

    def comparable(self, key: str, value: Any) -> Any:
        number = as_int(value)
        return number if number is not None else value

    def _inputs(self, props: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in props.items() if k != PROVIDER_KEY}

    def _read_result(self, id_: str, outs: dict) -> ReadResult:
        return ReadResult(id_, outs, inputs={k: outs[k] for k in self.compared_inputs + ("queueKind",) if k in outs})


# ------------------------------------------------------------------ topics


class QueueTopicProvider(_QueueProvider):
    """A topic on every master of the cluster. Its name and cleanup policy are fixed (the broker
    refuses a cleanup-policy change), queues and message type change in place."""

    resource_kind = "QueueTopic"
    ident_input = "topic"
    inputs_that_replace = ("topic", "cleanupPolicy")
    compared_inputs = ("topic", "queues", "messageType", "cleanupPolicy", "tenant", "agent", "kind", "acceptsFrom")


    def check(self, _olds: dict, news: dict) -> CheckResult:
        news = {"messageType": "NORMAL", "cleanupPolicy": "DELETE", "acceptsFrom": [], **news}
        failures = [f for f in (_name_failure("topic", "topic", news.get("topic")),
                                _range_failure("queues", news.get("queues"), 1, 1024)) if f]
        if news["messageType"] not in MESSAGE_TYPES:
            failures.append(CheckFailure("messageType", f"must be one of {', '.join(MESSAGE_TYPES)}, not {news['messageType']!r}"))
        if news["cleanupPolicy"] not in CLEANUP_POLICIES:
            failures.append(CheckFailure("cleanupPolicy", f"must be one of {', '.join(CLEANUP_POLICIES)}, not {news['cleanupPolicy']!r}"))
        if news.get("kind") is not None and news["kind"] not in TOPIC_KINDS:
            failures.append(CheckFailure("kind", f"must be one of {', '.join(TOPIC_KINDS)}, not {news['kind']!r}"))
        failures += _descriptive_failures(news, ("tenant", "agent"))
        callers = news["acceptsFrom"]
        if not isinstance(callers, list) or not all(isinstance(c, str) and _CALLER.match(c) for c in callers):
            failures.append(CheckFailure("acceptsFrom", "must be a list of \"<tenant>/<agent>\" callers"))
        news["queues"] = _as_int_or_keep(news.get("queues"))
        return _checked(news, failures)

    def comparable(self, key: str, value: Any) -> Any:
        if key == "acceptsFrom" and isinstance(value, list):
            return sorted(value)
        return super().comparable(key, value)

    @staticmethod
    def _spec(props: dict) -> TopicSpec:
        return TopicSpec(name=props["topic"], queues=as_int(props["queues"]) or 0,
                         message_type=props.get("messageType", "NORMAL"),
                         cleanup_policy=props.get("cleanupPolicy", "DELETE"))

    def create(self, props: dict) -> CreateResult:
        with self._admin(props) as admin:
            try:
                admin.create_topic(self._spec(props))
            except TopicConflict as exc:
                raise TopicConflict(f"{exc}; this stack will not change a topic it did not create - "
                                    "delete it on the broker or declare another topic name") from None
        return CreateResult(props["topic"], self._inputs(props))

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        spec = self._spec(news)
        with self._admin(news) as admin:
            if admin.get_topic(spec.name) is None:  # deleted behind the stack's back: make it again
                admin.create_topic(spec)
            else:
                admin.update_topic(spec)
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        with self._admin(props) as admin:
            actual = admin.get_topic(props.get("topic") or id_)
        if actual is None:
            return ReadResult("", {})
        outs = self._inputs(props)
        outs.update(topic=actual.name, queues=actual.queues, messageType=actual.message_type,
                    cleanupPolicy=actual.cleanup_policy)
        return self._read_result(id_, outs)

    def delete(self, id_: str, props: dict) -> None:
        with self._admin(props) as admin:
            admin.delete_topic(props.get("topic") or id_)


# ------------------------------------------------------------------ consumer groups


class QueueConsumerGroupProvider(_QueueProvider):
    """A consumer group (subscription group) on every master: retries before the dead-letter
    queue, the back-off between them, and FIFO (orderly) consumption."""

    resource_kind = "QueueConsumerGroup"
    ident_input = "group"
    inputs_that_replace = ("group",)
    compared_inputs = ("group", "maxRetries", "retryPolicy", "orderly", "tenant", "agent")


    def check(self, _olds: dict, news: dict) -> CheckResult:
        news = {"maxRetries": 16, "orderly": False, "retryPolicy": {"kind": "EXPONENTIAL"}, **news}
        failures = [f for f in (_name_failure("group", "group", news.get("group")),
                                _range_failure("maxRetries", news.get("maxRetries"), 0, 16)) if f]
        if not isinstance(news["orderly"], bool):
            failures.append(CheckFailure("orderly", "must be true or false"))
        failures += _descriptive_failures(news, ("tenant", "agent"))
        policy = news["retryPolicy"]
        if not isinstance(policy, dict) or policy.get("kind", "EXPONENTIAL") not in RETRY_KINDS:
            failures.append(CheckFailure("retryPolicy", f"must be an object whose kind is one of {', '.join(RETRY_KINDS)}"))
        elif policy.get("kind", "EXPONENTIAL") == "EXPONENTIAL":
            unknown = sorted(set(policy) - {"kind", *EXPONENTIAL_DEFAULTS})
            if unknown:
                failures.append(CheckFailure("retryPolicy", f"EXPONENTIAL takes initialMs, maxMs, multiplier, not {unknown}"))
            view = retry_view(policy)
            for key, low, high in (("initialMs", 1, 86_400_000), ("maxMs", 1, 86_400_000), ("multiplier", 1, 100)):
                failure = _range_failure(f"retryPolicy.{key}", view[key], low, high)
                if failure:
                    failures.append(CheckFailure("retryPolicy", failure.reason.replace("must", f"{key} must", 1)))
            if not failures and view["maxMs"] < view["initialMs"]:
                failures.append(CheckFailure("retryPolicy", "maxMs must be >= initialMs"))
            if not failures:
                news["retryPolicy"] = view
        else:
            unknown = sorted(set(policy) - {"kind", "nextMs"})
            if unknown:
                failures.append(CheckFailure("retryPolicy", f"CUSTOMIZED takes nextMs (the delays in order), not {unknown}"))
            delays = policy.get("nextMs") or []
            if not isinstance(delays, list) or any(as_int(d) is None or as_int(d) < 1 for d in delays):
                failures.append(CheckFailure("retryPolicy", "nextMs must be a list of positive delays in ms"))
            if not failures:
                news["retryPolicy"] = retry_view(policy)
        news["maxRetries"] = _as_int_or_keep(news["maxRetries"])
        return _checked(news, failures)

    def comparable(self, key: str, value: Any) -> Any:
        if key == "retryPolicy":
            return retry_view(value)
        return super().comparable(key, value)

    @staticmethod
    def _spec(props: dict) -> GroupSpec:
        view = retry_view(props.get("retryPolicy") or {"kind": "EXPONENTIAL"})
        if view["kind"] == "EXPONENTIAL":
            policy = RetryPolicy(kind="EXPONENTIAL", initial_ms=view["initialMs"], max_ms=view["maxMs"],
                                 multiplier=view["multiplier"])
        else:
            policy = RetryPolicy(kind="CUSTOMIZED", next_ms=tuple(view["nextMs"]))
        return GroupSpec(name=props["group"], max_retries=as_int(props.get("maxRetries", 16)),
                         orderly=bool(props.get("orderly", False)), retry_policy=policy)

    @staticmethod
    def _view(spec: GroupSpec) -> dict:
        policy = spec.retry_policy
        retry = ({"kind": "EXPONENTIAL", "initialMs": policy.initial_ms, "maxMs": policy.max_ms,
                  "multiplier": policy.multiplier} if policy.kind == "EXPONENTIAL"
                 else {"kind": "CUSTOMIZED", "nextMs": list(policy.next_ms)})
        return {"maxRetries": spec.max_retries, "retryPolicy": retry, "orderly": spec.orderly,
                "consumeEnable": spec.consume_enable}

    def create(self, props: dict) -> CreateResult:
        spec = self._spec(props)
        with self._admin(props) as admin:
            existing = admin.get_group(spec.name)
            if existing is None:
                admin.put_group(spec)
            else:
                have, want = self._view(existing), self._view(spec)
                if have != want:
                    differences = ", ".join(f"{k} is {have[k]!r}, declared {want[k]!r}" for k in want if have[k] != want[k])
                    raise QueueConflict(
                        f"consumer group {spec.name} already exists with other settings: {differences}; this stack "
                        "will not change a group it did not create - delete it on the broker or declare another group name"
                    )
        return CreateResult(spec.name, self._inputs(props))

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        with self._admin(news) as admin:
            admin.put_group(self._spec(news))
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        with self._admin(props) as admin:
            actual = admin.get_group(props.get("group") or id_)
        if actual is None:
            return ReadResult("", {})
        view = self._view(actual)
        outs = self._inputs(props)
        outs.update(group=actual.name, maxRetries=view["maxRetries"], retryPolicy=view["retryPolicy"],
                    orderly=view["orderly"])
        return self._read_result(id_, outs)

    def delete(self, id_: str, props: dict) -> None:
        with self._admin(props) as admin:
            admin.delete_group(props.get("group") or id_)


# ------------------------------------------------------------------ users and their ACLs


class QueueUserProvider(_QueueProvider):
    """An agent's ACL 2.0 Normal user and its ACL (what it may publish to and consume from).

    The password is derive_password(seed, username, credentialVersion), computed here from the
    seed read in configure(): it is never an input or output, so never in state. The program puts
    the same derived password into the agent's Kubernetes Secret.

    A user of that name that already exists is refused (it is not this stack's), unless its
    password already is the derived one (then it is this stack's, e.g. from a create whose answer
    was lost: adopted, and its ACL made the declared one). A create whose ACL step fails removes
    the user it just made, so nothing is left half-made.
    """

    resource_kind = "QueueUser"
    ident_input = "username"
    inputs_that_replace = ("username",)
    compared_inputs = ("username", "entries", "credentialVersion", "tenant", "agent")


    def check(self, _olds: dict, news: dict) -> CheckResult:
        news = {"entries": [], "credentialVersion": 1, **news}
        failures = [f for f in (_name_failure("username", "user", news.get("username")),
                                _range_failure("credentialVersion", news.get("credentialVersion"), 1, 1_000_000)) if f]
        failures += _descriptive_failures(news, ("tenant", "agent"))
        entries = news["entries"]
        if not isinstance(entries, list):
            failures.append(CheckFailure("entries", "must be a list of {resource, actions, decision}"))
            entries = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            where = f"entries[{i}]"
            if not isinstance(entry, dict):
                failures.append(CheckFailure("entries", f"{where}: must be an object {{resource, actions, decision}}"))
                continue
            unknown = sorted(set(entry) - {"resource", "actions", "decision", "sourceIps"})
            if unknown:
                failures.append(CheckFailure("entries", f"{where}: unknown keys {unknown}"))
            resource = entry.get("resource")
            if not isinstance(resource, str) or not _ACL_RESOURCE.match(resource):
                failures.append(CheckFailure("entries", f"{where}.resource: must be Topic:<name>, Group:<name>, "
                                                        f"a <name>* prefix, * or Topic:%DLQ%<group>, not {resource!r}"))
            elif resource in seen:
                failures.append(CheckFailure("entries", f"{where}.resource: {resource} is declared twice"))
            else:
                seen.add(resource)
            actions = entry.get("actions")
            if not isinstance(actions, list) or not actions or not all(a in ACTIONS for a in actions):
                bad = sorted(a for a in actions if a not in ACTIONS) if isinstance(actions, list) else actions
                failures.append(CheckFailure("entries", f"{where}.actions: must be a non-empty list of "
                                                        f"{', '.join(ACTIONS)}{f', not {bad}' if bad else ''}"))
            if entry.get("decision", "Allow") not in DECISIONS:
                failures.append(CheckFailure("entries", f"{where}.decision: must be Allow or Deny, not {entry.get('decision')!r}"))
        news["credentialVersion"] = _as_int_or_keep(news["credentialVersion"])
        return _checked(news, failures)

    def comparable(self, key: str, value: Any) -> Any:
        if key == "entries":
            return entries_view(value or [])
        return super().comparable(key, value)

    def _password(self, props: dict) -> str:
        return derive_password(self._conn().credential_seed, props["username"],
                               as_int(props.get("credentialVersion", 1)) or 1)

    def create(self, props: dict) -> CreateResult:
        username, entries = props["username"], props.get("entries") or []
        conn = self._conn()
        password = self._password(props)
        with self._admin(props) as admin:
            if username == conn.admin_user:
                raise QueueConflict(f"QueueUser {username!r}: that is the admin user of {SETTINGS_KEY}.admin; "
                                    "an agent's user needs a name of its own")
            existing = admin.get_user(username)
            if existing is not None:
                if existing.get("password") != password or existing.get("userType", "Normal") != "Normal":
                    raise QueueConflict(
                        f"RocketMQ user {username!r} already exists at {conn.endpoint} and is not this stack's (its "
                        f"password is not the one derived from {PROJECT}:{SEED_KEY}); this stack will not take over "
                        "a user it did not create - delete it on the broker or rename the agent"
                    )
                self._set_acl(admin, username, entries)  # ours (an earlier create's answer was lost): adopt
            else:
                admin.create_user(UserSpec(username, password))
                try:
                    if entries:
                        admin.create_acl(_acl_spec(username, entries))
                except AdminError as exc:
                    self._remove_half_made(admin, username, exc)
                    raise
        return CreateResult(username, self._inputs(props))

    @staticmethod
    def _remove_half_made(admin: RocketMQAdmin, username: str, failure: AdminError) -> None:
        """Undo a create whose ACL step failed: its ACL (on masters that took it) and the user."""
        try:
            if admin.get_acl(username) is not None:
                admin.delete_acl(username)
            admin.delete_user(username)
        except AdminError as cleanup:
            raise AdminError(f"{failure}; and removing the user {username!r} this create made failed too "
                             f"({cleanup}): delete it on the broker") from None

    @staticmethod
    def _set_acl(admin: RocketMQAdmin, username: str, entries: list[dict]) -> None:
        """Make the user's ACL exactly ``entries``: the broker's update merges entries by
        resource, so entries no longer declared are deleted after it."""
        have = acl_entries(admin.get_acl(username))
        want = entries_view(entries)
        if (have or []) == want:
            return
        if not want:
            admin.delete_acl(username)
            return
        if have is None:
            admin.create_acl(_acl_spec(username, want))
            return
        admin.update_acl(_acl_spec(username, want))
        stale = sorted({e["resource"] for e in have} - {e["resource"] for e in want})
        if stale:
            admin.delete_acl(username, stale)

    def update(self, _id: str, olds: dict, news: dict) -> UpdateResult:
        username = news["username"]
        with self._admin(news) as admin:
            if admin.get_user(username) is None:  # deleted behind the stack's back: make it again
                admin.create_user(UserSpec(username, self._password(news)))
            elif self.comparable("credentialVersion", olds.get("credentialVersion")) != \
                    self.comparable("credentialVersion", news.get("credentialVersion")):
                admin.update_user(UserSpec(username, self._password(news)))
            self._set_acl(admin, username, news.get("entries") or [])
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        username = props.get("username") or id_
        with self._admin(props) as admin:
            user = admin.get_user(username)
            if user is None:
                return ReadResult("", {})
            entries = acl_entries(admin.get_acl(username)) or []
        outs = self._inputs({**props, "username": username})
        outs["entries"] = entries
        if user.get("password") != self._password(outs):
            # the broker's password is not this version's: show it as drift (version 0), and the
            # next update sets the derived one again
            outs["credentialVersion"] = 0
        return self._read_result(id_, outs)

    def delete(self, id_: str, props: dict) -> None:
        username = props.get("username") or id_
        with self._admin(props) as admin:
            if admin.get_user(username) is None:
                return
            if admin.get_acl(username) is not None:
                admin.delete_acl(username)
            admin.delete_user(username)
