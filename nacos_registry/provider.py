"""Dynamic providers that keep Nacos's namespaces, A2A AgentCards, MCP servers, agents' live
configuration items and their read-only users true to the stack.

This module is pickled BY REFERENCE into every resource's `__provider` input:
never rename or move it once stacks exist.

Rules kept here, all from Nacos's real semantics (see docs/nacos-api-observed.md):
- check/diff run during preview and make no network call; only create/update/
  delete/read talk to Nacos.
- create adopts an identical record that already exists and refuses, naming it,
  a different one; it never silently overwrites what another owner published.
- cards are published with registrationType=URL (persistent), never as
  ephemeral SDK endpoints that vanish when this process exits.
- credentials are read in configure() from the stack's secret config and never
  written to inputs or outputs, so they stay out of state.
"""

from __future__ import annotations

import copy
import sys
import time
import traceback
from typing import Any, Callable, Optional

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

from nacos_registry.client import NacosClient, NacosConflict, NacosError, NacosNotFound, NacosServerError
from nacos_registry.settings import PROJECT, RegistryConfigError, connection_from_config

OPERATIONAL_ERRORS = (NacosError, RegistryConfigError)


def _report_operational_errors_by_message() -> None:
    """Show Nacos being down, refusing or conflicting as its message, not as a Python traceback.

    Pulumi's dynamic-provider host (`python -m pulumi.dynamic`, which runs this module) reports
    every exception as `traceback.format_exc()`. For the errors this provider raises on purpose,
    which already name the endpoint and the record, that buried the message under a stack
    trace (seen on the real engine). Any other exception keeps its full traceback: it is a bug.
    """
    host = getattr(sys.modules.get("__main__"), "__spec__", None)
    original = traceback.format_exc
    if getattr(host, "name", None) != "pulumi.dynamic.__main__" or getattr(original, "keeps_operational_errors_short", False):
        return  # only in the provider host process, and only once

    def format_exc(*args, _exc_info=sys.exc_info, _original=original, **kwargs) -> str:
        error = _exc_info()[1]
        if isinstance(error, OPERATIONAL_ERRORS):
            return f"{type(error).__name__}: {error}"
        return _original(*args, **kwargs)

    format_exc.keeps_operational_errors_short = True  # type: ignore[attr-defined]
    traceback.format_exc = format_exc


_report_operational_errors_by_message()

PROVIDER_KEY = "__provider"
A2A = "/admin/ai/a2a"
MCP = "/admin/ai/mcp"
NAMESPACE = "/admin/core/namespace"
DELETE_SETTLE_SECONDS = 15
# Answers, as (HTTP status, code, data), that Nacos 3.1 gives about a record it is still removing
# (docs/nacos-api-observed.md, "Deletes in flight"): the request found the record's config-cache
# entry write-locked by the removal for over ~10 ms and parsed no content. Only delete-and-confirm
# takes these as "not gone yet, ask again"; anywhere else they stay errors.
HALF_DELETED_ANSWERS = (
    (400, 20002, 'argument "content" is null'),
)
AGENT_CARD_FIELDS = (
    "protocolVersion", "name", "description", "url", "preferredTransport", "additionalInterfaces",
    "iconUrl", "provider", "version", "documentationUrl", "capabilities", "securitySchemes", "security",
    "defaultInputModes", "defaultOutputModes", "skills", "supportsAuthenticatedExtendedCard",
)


def _half_deleted(error: NacosError) -> bool:
    return (error.status, error.code, error.detail) in HALF_DELETED_ANSWERS


def normalize(value: Any) -> Any:
    """Drop nulls and empty collections recursively: Nacos fills absent fields with them."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def card_view(card: dict) -> dict:
    """The A2A fields of a card as Nacos returns it, normalized for comparison."""
    return normalize({k: card[k] for k in AGENT_CARD_FIELDS if k in card})


class _RegistryProvider(ResourceProvider):
    """Shared plumbing: configuration from the stack, a fresh client per operation."""

    inputs_that_replace: tuple[str, ...] = ()
    compared_inputs: tuple[str, ...] = ()

    def configure(self, req: ConfigureRequest) -> None:
        def get(key: str) -> Optional[str]:
            return req.config.get(f"{PROJECT}:{key}")

        try:
            self._connection = connection_from_config(get)
            self._config_error: Optional[str] = None
        except RegistryConfigError as exc:
            self._connection = None
            self._config_error = str(exc)

    def _delete_and_confirm(
        self, path: str, params: dict, what: str, still_readable: Callable[[NacosClient], bool]
    ) -> None:
        """DELETE (an absent record is already deleted), then return once it no longer reads back.

        A half-deleted answer (HALF_DELETED_ANSWERS), to the DELETE or to a read, means "ask again"
        until DELETE_SETTLE_SECONDS; a DELETE that got one deleted nothing, so it is sent again.
        """
        client = self._client()
        deadline = time.monotonic() + DELETE_SETTLE_SECONDS
        accepted = False
        while True:
            last: Optional[NacosError] = None
            try:
                if not accepted:
                    try:
                        client.call("DELETE", path, params)
                    except NacosNotFound:
                        return
                    accepted = True
                if not still_readable(client):
                    return
            except NacosError as exc:
                if not _half_deleted(exc):
                    raise
                last = exc
            if time.monotonic() >= deadline:
                if not accepted:
                    raise NacosServerError(
                        f"Nacos did not accept the deletion of {what} within {DELETE_SETTLE_SECONDS}s "
                        f"(last answer: {last}); run `pulumi destroy` again"
                    )
                state = f"was still half-deleted ({last})" if last else "was still readable"
                raise NacosServerError(
                    f"{what} {state} {DELETE_SETTLE_SECONDS}s after Nacos accepted its deletion; "
                    "run `pulumi destroy` again"
                )
            time.sleep(0.5)

    def _client(self) -> NacosClient:
        connection = getattr(self, "_connection", None)
        if connection is None:
            raise RegistryConfigError(
                getattr(self, "_config_error", None) or f"{PROJECT}:registry is not configured for this stack"
            )
        client = NacosClient(connection)
        client.wait_until_ready()
        return client

    def diff(self, _id: str, olds: dict, news: dict) -> DiffResult:
        """Pure comparison of inputs: ignores __provider (it changes with every code change).

        `olds` are the outputs stored in state, so each input is compared in the form the
        outputs keep it (see `comparable`).
        """
        changed = [k for k in self.compared_inputs if self.comparable(k, olds.get(k)) != self.comparable(k, news.get(k))]
        replaces = [k for k in changed if k in self.inputs_that_replace]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in self.inputs_that_replace if k not in replaces],
            delete_before_replace=bool(replaces),
        )

    def comparable(self, key: str, value):
        """The form in which the outputs keep an input (identity unless a provider normalizes it)."""
        return value

    @staticmethod
    def _post_unless_present(get, post) -> Optional[dict]:
        """Create the record unless one exists; return the pre-existing record (None when we created it).

        A 409 on POST means someone registered the name between our GET and POST:
        the caller then judges what is there now, exactly as if the GET had found it.
        """
        existing = get()
        if existing is None:
            try:
                post()
            except NacosConflict:
                existing = get()
        return existing

    @staticmethod
    def _inputs(props: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in props.items() if k != PROVIDER_KEY}


class NamespaceProvider(_RegistryProvider):
    inputs_that_replace = ("namespaceId",)
    compared_inputs = ("namespaceId", "namespaceName", "description")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        failures = []
        ns_id = news.get("namespaceId")
        if not isinstance(ns_id, str) or not ns_id or ns_id == "public":
            failures.append(CheckFailure("namespaceId", "must be a non-empty id other than 'public'"))
        return CheckResult(news, failures)

    def create(self, props: dict) -> CreateResult:
        client = self._client()
        ns_id = props["namespaceId"]
        params = {"namespaceId": ns_id, "namespaceName": props["namespaceName"], "namespaceDesc": props.get("description", "")}
        try:
            client.call("POST", NAMESPACE, params)
        except NacosConflict:
            existing = client.call("GET", NAMESPACE, {"namespaceId": ns_id}) or {}
            if existing.get("namespaceShowName", existing.get("namespaceName")) != props["namespaceName"]:
                raise NacosConflict(
                    f"Nacos namespace {ns_id!r} already exists with another name "
                    f"({existing.get('namespaceShowName')!r}); it is not this stack's - choose another nacosNamespaceId"
                ) from None
        return CreateResult(ns_id, self._inputs(props))

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        client = self._client()
        client.call(
            "PUT",
            NAMESPACE,
            {"namespaceId": news["namespaceId"], "namespaceName": news["namespaceName"], "namespaceDesc": news.get("description", "")},
        )
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        client = self._client()
        try:
            existing = client.call("GET", NAMESPACE, {"namespaceId": id_}) or {}
        except NacosNotFound:
            return ReadResult("", {})
        outs = self._inputs(props)
        outs["namespaceName"] = existing.get("namespaceShowName", existing.get("namespaceName", outs.get("namespaceName")))
        outs["description"] = existing.get("namespaceDesc", outs.get("description"))
        return ReadResult(id_, outs)

    def delete(self, id_: str, _props: dict) -> None:
        client = self._client()
        try:
            client.call("DELETE", NAMESPACE, {"namespaceId": id_})
        except NacosNotFound:
            pass


class AgentCardProvider(_RegistryProvider):
    inputs_that_replace = ("namespaceId", "agentName")
    compared_inputs = ("namespaceId", "agentName", "version", "card", "registrationType")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        """Validate the card against the A2A AgentCard model before anything is sent."""
        from a2a.types import AgentCard  # imported lazily: only the provider process needs it
        from pydantic import ValidationError

        failures = []
        card = news.get("card")
        if not isinstance(card, dict):
            return CheckResult(news, [CheckFailure("card", "must be an AgentCard object")])
        try:
            AgentCard.model_validate(card)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                where = ".".join(str(p) for p in err["loc"])
                failures.append(CheckFailure("card", f"card.{where}: {err['msg']}"))
        name = card.get("name", "")
        if not (0 < len(name) <= 64 and name.isascii() and name.isprintable()):
            failures.append(CheckFailure("card", "card.name: 1-64 printable ASCII characters (a Nacos limit)"))
        if news.get("agentName") != name:
            failures.append(CheckFailure("agentName", f"must equal card.name ({name!r})"))
        if news.get("version") != card.get("version"):
            failures.append(CheckFailure("version", f"must equal card.version ({card.get('version')!r})"))
        if news.get("registrationType", "URL") not in ("URL", "SERVICE"):
            failures.append(CheckFailure("registrationType", "must be URL or SERVICE"))
        return CheckResult(news, failures)

    def comparable(self, key: str, value):
        # the outputs keep the card as Nacos returns it (card_view); an input card compares the same way,
        # else every preview showed each card as an update (seen on the real engine, never under mocks)
        return card_view(value) if key == "card" and isinstance(value, dict) else value

    def _get(self, client: NacosClient, props: dict, version: Optional[str] = None) -> Optional[dict]:
        try:
            return client.call(
                "GET",
                A2A,
                {"agentName": props["agentName"], "namespaceId": props["namespaceId"], "version": version or "",
                 "registrationType": props.get("registrationType", "URL")},
            )
        except NacosNotFound:
            return None

    def _versions(self, client: NacosClient, props: dict) -> list[str]:
        """The versions Nacos lists for the card's agent name (none once it is deleted)."""
        try:
            listed = client.call(
                "GET", f"{A2A}/version/list", {"agentName": props["agentName"], "namespaceId": props["namespaceId"]}
            )
        except NacosNotFound:
            return []
        return [v.get("version", "") for v in listed or [] if isinstance(v, dict)]

    def _publish(self, client: NacosClient, props: dict, method: str) -> None:
        params = {
            "agentCard": props["card"],
            "namespaceId": props["namespaceId"],
            "registrationType": props.get("registrationType", "URL"),
        }
        if method == "PUT":
            params["setAsLatest"] = True
        client.call(method, A2A, params)

    def create(self, props: dict) -> CreateResult:
        client = self._client()
        desired = card_view(props["card"])
        existing = self._post_unless_present(
            lambda: self._get(client, props), lambda: self._publish(client, props, "POST")
        )
        if existing is not None:
            same_version = self._get(client, props, props["version"])
            if same_version is None or card_view(same_version) != desired:
                raise NacosConflict(
                    f"AgentCard {props['agentName']!r} already exists in Nacos namespace {props['namespaceId']!r} "
                    f"with different content (latest version {existing.get('version')!r}); this stack will not "
                    "overwrite a card it did not publish - delete it in Nacos or rename the agent"
                )
            # identical record: adopt it (covers a retried create after a lost response)
        return CreateResult(f"{props['namespaceId']}/{props['agentName']}", self._outputs(props))

    def update(self, _id: str, olds: dict, news: dict) -> UpdateResult:
        client = self._client()
        # a new version is appended and made latest; the same version is overwritten in place
        try:
            self._publish(client, news, "PUT")
        except NacosNotFound:
            # deleted behind the stack's back: publish it again rather than fail the update
            self._publish(client, news, "POST")
        return UpdateResult(self._outputs(news, olds))

    def read(self, id_: str, props: dict) -> ReadResult:
        client = self._client()
        latest = self._get(client, props)
        if latest is None:
            return ReadResult("", {})
        outs = self._inputs(props)
        outs["card"] = card_view(latest)
        outs["version"] = latest.get("version", outs.get("version"))
        outs["agentName"] = latest.get("name", outs.get("agentName"))
        return ReadResult(id_, outs, inputs={k: outs[k] for k in self.compared_inputs + ("registryKind",) if k in outs})

    def delete(self, _id: str, props: dict) -> None:
        """Remove every version of the card: the stack owns the agent name in this namespace."""
        # Nacos applies version deletes asynchronously (~1-2 s), and its card and version-list reads
        # catch up separately (observed: either may still answer after the other is gone): only report
        # done once both are, so `destroy` never leaves a record behind while claiming success.
        self._delete_and_confirm(
            A2A,
            {"agentName": props["agentName"], "namespaceId": props["namespaceId"]},
            f"AgentCard {props['agentName']!r} in namespace {props['namespaceId']!r}",
            lambda client: self._get(client, props) is not None or bool(self._versions(client, props)),
        )

    def _outputs(self, props: dict, olds: Optional[dict] = None) -> dict:
        outs = self._inputs(props)
        outs["card"] = card_view(props["card"])
        published = list((olds or {}).get("publishedVersions") or [])
        if props["version"] not in published:
            published.append(props["version"])
        outs["publishedVersions"] = published
        return outs


class McpServerProvider(_RegistryProvider):
    inputs_that_replace = ("namespaceId", "mcpName")
    compared_inputs = ("namespaceId", "mcpName", "version", "serverSpecification", "toolSpecification", "endpointSpecification")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        import re

        failures = []
        name = news.get("mcpName", "")
        if not isinstance(name, str) or not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", name):
            failures.append(CheckFailure("mcpName", "must match ^[0-9a-zA-Z-_]+$, at most 64 characters (no dots)"))
        spec = news.get("serverSpecification") or {}
        if (spec.get("versionDetail") or {}).get("version") != news.get("version"):
            failures.append(CheckFailure("serverSpecification", "versionDetail.version must equal version"))
        if spec.get("protocol") != "stdio":
            if not (spec.get("remoteServerConfig") or {}).get("exportPath"):
                failures.append(CheckFailure("serverSpecification", "remoteServerConfig.exportPath is required for remote servers"))
            if not news.get("endpointSpecification"):
                failures.append(CheckFailure("endpointSpecification", "required for remote (non-stdio) servers"))
        return CheckResult(news, failures)

    def _get(self, client: NacosClient, props: dict) -> Optional[dict]:
        try:
            return client.call("GET", MCP, {"mcpName": props["mcpName"], "namespaceId": props["namespaceId"], "version": ""})
        except NacosNotFound:
            return None

    def _params(self, props: dict) -> dict:
        return {
            "namespaceId": props["namespaceId"],
            "mcpName": props["mcpName"],
            "serverSpecification": props["serverSpecification"],
            "toolSpecification": props.get("toolSpecification") or None,
            "endpointSpecification": props.get("endpointSpecification") or None,
        }

    @staticmethod
    def server_view(detail: dict) -> dict:
        """The parts of Nacos's detail answer that we manage, normalized."""
        return normalize(
            {
                "name": detail.get("name"),
                "protocol": detail.get("protocol"),
                "frontProtocol": detail.get("frontProtocol"),
                "description": detail.get("description"),
                "version": (detail.get("versionDetail") or {}).get("version"),
                "exportPath": (detail.get("remoteServerConfig") or {}).get("exportPath"),
            }
        )

    def _desired_view(self, props: dict) -> dict:
        spec = props["serverSpecification"]
        return self.server_view({**spec, "name": spec.get("name", props["mcpName"])})

    def create(self, props: dict) -> CreateResult:
        client = self._client()
        existing = self._post_unless_present(
            lambda: self._get(client, props), lambda: client.call("POST", MCP, self._params(props))
        )
        if existing is not None and self.server_view(existing) != self._desired_view(props):
            raise NacosConflict(
                f"MCP server {props['mcpName']!r} already exists in Nacos namespace {props['namespaceId']!r} with "
                f"different content (version {(existing.get('versionDetail') or {}).get('version')!r}); this stack "
                "will not overwrite it - delete it in Nacos or rename the server"
            )
        return CreateResult(f"{props['namespaceId']}/{props['mcpName']}", self._inputs(props))

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        client = self._client()
        client.call("PUT", MCP, {**self._params(news), "latest": True})
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        client = self._client()
        existing = self._get(client, props)
        if existing is None:
            return ReadResult("", {})
        outs = self._inputs(props)
        if self.server_view(existing) != self._desired_view(props):
            spec = dict(outs.get("serverSpecification") or {})
            spec.update({k: existing[k] for k in ("description", "protocol", "frontProtocol") if k in existing})
            spec["versionDetail"] = {"version": (existing.get("versionDetail") or {}).get("version")}
            outs["serverSpecification"] = spec
            outs["version"] = spec["versionDetail"]["version"]
        return ReadResult(id_, outs)

    def delete(self, _id: str, props: dict) -> None:
        """Delete the whole server: deleting one version can orphan the others."""
        # reads see it gone at once (the name is resolved in the database), yet one racing the cache
        # removal can still answer half-deleted (observed): confirm rather than assume
        self._delete_and_confirm(
            MCP,
            {"mcpName": props["mcpName"], "namespaceId": props["namespaceId"]},
            f"MCP server {props['mcpName']!r} in namespace {props['namespaceId']!r}",
            lambda client: self._get(client, props) is not None,
        )


CONFIG = "/admin/cs/config"
USERS = "/auth/user"
ROLES = "/auth/role"
PERMISSIONS = "/auth/permission"


class ConfigItemProvider(_RegistryProvider):
    """A Nacos configuration item (namespace, group, data id -> content) that agents subscribe to.

    Like the cards: a pre-existing item with other content is refused, never overwritten;
    an identical one is adopted; refresh shows content changed behind the stack's back.
    """

    inputs_that_replace = ("namespaceId", "group", "dataId")
    compared_inputs = ("namespaceId", "group", "dataId", "content", "type")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        import re

        failures = []
        for key in ("dataId", "group"):
            if not isinstance(news.get(key), str) or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,255}", news[key]):
                failures.append(CheckFailure(key, "1-255 of the characters Nacos allows: letters, digits, _ . : -"))
        if not isinstance(news.get("content"), str) or not news["content"]:
            failures.append(CheckFailure("content", "must be a non-empty string"))
        return CheckResult(news, failures)

    def _key(self, props: dict) -> dict:
        return {"dataId": props["dataId"], "groupName": props["group"], "namespaceId": props["namespaceId"]}

    def _what(self, props: dict) -> str:
        return f"configuration {props['dataId']!r} (group {props['group']!r}) in Nacos namespace {props['namespaceId']!r}"

    def _get(self, client: NacosClient, props: dict) -> Optional[dict]:
        try:
            return client.call("GET", CONFIG, self._key(props))
        except NacosNotFound:
            return None

    def _publish(self, client: NacosClient, props: dict) -> None:
        client.call("POST", CONFIG, {**self._key(props), "content": props["content"], "type": props.get("type", "json"),
                                     "desc": props.get("description", "")})

    def create(self, props: dict) -> CreateResult:
        client = self._client()
        existing = self._get(client, props)
        if existing is None:
            self._publish(client, props)
        elif existing.get("content") != props["content"]:
            raise NacosConflict(
                f"{self._what(props)} already exists with other content; this stack will not overwrite a "
                "configuration it did not publish - delete it in Nacos or rename the agent"
            )
        return CreateResult("/".join(self._key(props)[k] for k in ("namespaceId", "groupName", "dataId")), self._inputs(props))

    def update(self, _id: str, _olds: dict, news: dict) -> UpdateResult:
        # a publish overwrites the content in place; Nacos pushes it to every subscribed agent
        self._publish(self._client(), news)
        return UpdateResult(self._inputs(news))

    def read(self, id_: str, props: dict) -> ReadResult:
        existing = self._get(self._client(), props)
        if existing is None:
            return ReadResult("", {})
        outs = self._inputs(props)
        outs["content"] = existing.get("content", outs.get("content"))
        return ReadResult(id_, outs, inputs={k: outs[k] for k in self.compared_inputs + ("registryKind",) if k in outs})

    def delete(self, _id: str, props: dict) -> None:
        self._delete_and_confirm(
            CONFIG, self._key(props), self._what(props), lambda client: self._get(client, props) is not None
        )


class ReaderProvider(_RegistryProvider):
    """A Nacos user that may only read: a role of its own with read permission on one resource pattern.

    Agents log in with it to subscribe to their live configuration, never with the admin's
    credentials. The password is generated here (Python's `secrets`) and returned as an
    output the resource marks secret, so it reaches state only encrypted. A user that already
    exists is refused (its password is unknown to the stack); a create that fails half-way
    removes what it made.
    """

    inputs_that_replace = ("username",)
    compared_inputs = ("username", "resource")

    def check(self, _olds: dict, news: dict) -> CheckResult:
        import re

        failures = []
        if not isinstance(news.get("username"), str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", news["username"]):
            failures.append(CheckFailure("username", "1-64 letters, digits, _ . -"))
        resource = news.get("resource")
        if not isinstance(resource, str) or resource.count(":") != 2 or resource.startswith("*"):
            failures.append(CheckFailure("resource", "must be <namespaceId>:<group>:<type>/<name pattern>, scoped to one namespace"))
        return CheckResult(news, failures)

    @staticmethod
    def _user_exists(client: NacosClient, username: str) -> bool:
        page = client.call("GET", f"{USERS}/list", {"pageNo": 1, "pageSize": 10, "username": username, "search": "accurate"}) or {}
        return any(u.get("username") == username for u in page.get("pageItems") or [])

    @staticmethod
    def _permissions(client: NacosClient, role: str) -> list[str]:
        page = client.call("GET", f"{PERMISSIONS}/list", {"pageNo": 1, "pageSize": 100, "role": role, "search": "accurate"}) or {}
        return [p.get("resource") for p in page.get("pageItems") or [] if p.get("role") == role and p.get("action") == "r"]

    def create(self, props: dict) -> CreateResult:
        import secrets

        client = self._client()
        username = props["username"]
        if self._user_exists(client, username):
            raise NacosConflict(
                f"Nacos user {username!r} already exists; this stack will not take over a user it did not create "
                "(its password is not the stack's) - delete it in Nacos or rename the agent"
            )
        password = secrets.token_urlsafe(24)
        client.call("POST", USERS, {"username": username, "password": password})
        try:
            client.call("POST", ROLES, {"role": username, "username": username})
            client.call("POST", PERMISSIONS, {"role": username, "resource": props["resource"], "action": "r"})
        except NacosError:
            self._remove(client, username, props["resource"])
            raise
        return CreateResult(username, {**self._inputs(props), "password": password})

    def update(self, _id: str, olds: dict, news: dict) -> UpdateResult:
        client = self._client()
        role = news["username"]
        if olds.get("resource") != news["resource"]:
            client.call("POST", PERMISSIONS, {"role": role, "resource": news["resource"], "action": "r"})
            if olds.get("resource"):
                client.call("DELETE", PERMISSIONS, {"role": role, "resource": olds["resource"], "action": "r"})
        return UpdateResult({**self._inputs(news), "password": olds.get("password")})

    def read(self, id_: str, props: dict) -> ReadResult:
        client = self._client()
        if not self._user_exists(client, props["username"]):
            return ReadResult("", {})
        outs = self._inputs(props)
        granted = self._permissions(client, props["username"])
        # drift: the permission was removed or replaced behind the stack's back
        outs["resource"] = props["resource"] if props["resource"] in granted else ",".join(sorted(granted))
        return ReadResult(id_, outs, inputs={k: outs[k] for k in self.compared_inputs + ("registryKind",) if k in outs})

    def delete(self, _id: str, props: dict) -> None:
        self._remove(self._client(), props["username"], props.get("resource"))

    @staticmethod
    def _remove(client: NacosClient, username: str, resource: Optional[str]) -> None:
        """Permission, role binding, user - each removal is idempotent in Nacos 3.1."""
        if resource:
            client.call("DELETE", PERMISSIONS, {"role": username, "resource": resource, "action": "r"})
        client.call("DELETE", ROLES, {"role": username, "username": username})
        client.call("DELETE", USERS, {"username": username})
