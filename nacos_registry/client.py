"""A small, strict client for the Nacos 3.1 admin HTTP API (stdlib only).

Why not an SDK: the gRPC client registers ephemeral records that vanish with the
process, and the maintainer SDK has known defects (see shared/reference/nacos.md).
The provider needs exact status handling - 409 vs 404 vs 403 - so we speak HTTP.

Every failure becomes a `NacosError` subclass whose message names the endpoint
and what to check; passwords and tokens never appear in messages.
"""

from __future__ import annotations

import json
import random
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

API = "/nacos/v3"


@dataclass(frozen=True)
class ConnectionSettings:
    server_addr: str  # e.g. http://127.0.0.1:8848 (no /nacos suffix)
    username: str
    password: str = field(repr=False)
    timeout_seconds: float = 10.0
    retry_total_seconds: float = 30.0
    ready_timeout_seconds: float = 300.0
    verify_tls: bool = True
    ca_file: Optional[str] = None

    @property
    def base(self) -> str:
        return self.server_addr.rstrip("/")


class NacosError(Exception):
    """Base class: something about Nacos went wrong; the message says what and where.

    `status`, `code` and `detail` keep Nacos's answer (HTTP status, envelope code, envelope data)
    when there was one, so a caller can recognise a specific answer without parsing the message.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, code: Any = None, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


class NacosUnreachable(NacosError):
    pass


class NacosAuthError(NacosError):
    pass


class NacosBadRequest(NacosError):
    pass


class NacosNotFound(NacosError):
    pass


class NacosConflict(NacosError):
    pass


class NacosServerError(NacosError):
    pass


@dataclass
class _Token:
    value: str
    expires_at: float


class NacosClient:
    """One client per provider call: holds the login token for the duration of that call only."""

    def __init__(self, settings: ConnectionSettings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._token: Optional[_Token] = None
        self._sleep = sleep
        self._ssl = None
        if settings.base.startswith("https://"):
            ctx = ssl.create_default_context(cafile=settings.ca_file)
            if not settings.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._ssl = ctx

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, path: str, params: dict[str, Any], auth: bool) -> tuple[int, str]:
        clean = {k: _param(v) for k, v in params.items() if v is not None}
        url = self.settings.base + path
        body = None
        headers = {"Accept": "application/json"}
        if auth:
            headers["accessToken"] = self._access_token()
        if method in ("POST", "PUT"):
            body = urllib.parse.urlencode(clean).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif clean:
            url += "?" + urllib.parse.urlencode(clean)
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_seconds, context=self._ssl) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def _with_retries(
        self, method: str, path: str, params: dict[str, Any], auth: bool, retry_5xx: bool = True
    ) -> tuple[int, str]:
        """Retry connection errors (and 5xx) with jittered backoff, bounded by retry_total_seconds."""
        deadline = time.monotonic() + self.settings.retry_total_seconds
        delay = 0.25
        attempt = 0
        while True:
            attempt += 1
            try:
                status, text = self._send(method, path, params, auth)
                if status < 500 or not retry_5xx:
                    return status, text
                failure: Exception = NacosServerError(
                    f"Nacos at {self.settings.base} answered HTTP {status} to {method} {path}: {_message(text)}"
                )
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                failure = NacosUnreachable(
                    f"cannot reach Nacos at {self.settings.base} ({method} {path}: {reason}); check that the "
                    "registry serverAddr is right, that Nacos runs and that port 8848 is reachable from here"
                )
            if time.monotonic() + delay > deadline:
                raise type(failure)(f"{failure} - gave up after {attempt} attempts") from None
            self._sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, 5.0)

    # ------------------------------------------------------------------ auth

    def _access_token(self) -> str:
        now = time.monotonic()
        if self._token is None or now >= self._token.expires_at:
            self._login()
        assert self._token is not None
        return self._token.value

    def _login(self) -> None:
        # Nacos 3.1 answers a wrong password with HTTP 500 and an unknown user with 403:
        # any non-200 login is a credentials problem, and retrying it changes nothing.
        status, text = self._with_retries(
            "POST",
            f"{API}/auth/user/login",
            {"username": self.settings.username, "password": self.settings.password},
            auth=False,
            retry_5xx=False,
        )
        if status != 200:
            raise NacosAuthError(
                f"Nacos at {self.settings.base} refused the login of user {self.settings.username!r} "
                f"(HTTP {status}); check the registry username and the registryPassword/nacosAdminPassword secret"
            )
        data = json.loads(text)
        ttl = float(data.get("tokenTtl", 18000))
        # refresh well before expiry so a long `pulumi up` never sends a stale token
        self._token = _Token(data["accessToken"], time.monotonic() + max(ttl * 0.8, 1.0))

    def wait_until_ready(self) -> None:
        """Block until Nacos accepts a login, for at most ready_timeout_seconds."""
        deadline = time.monotonic() + self.settings.ready_timeout_seconds
        while True:
            try:
                self._login()
                return
            except NacosUnreachable as exc:
                if time.monotonic() >= deadline:
                    raise NacosUnreachable(
                        f"Nacos at {self.settings.base} was not ready within {self.settings.ready_timeout_seconds:.0f}s: {exc}"
                    ) from None
                self._sleep(2.0)

    # ------------------------------------------------------------------ calls

    def call(self, method: str, path: str, params: Optional[dict[str, Any]] = None) -> Any:
        """One authenticated admin call; returns the envelope's `data` or raises a NacosError."""
        params = params or {}
        status, text = self._with_retries(method, f"{API}{path}", params, auth=True)
        if status == 403 and self._token is not None:
            # the token may have been invalidated server-side: log in again once
            self._token = None
            status, text = self._with_retries(method, f"{API}{path}", params, auth=True)
        where = f"{method} {self.settings.base}{API}{path}"
        envelope = _envelope(text)
        code = envelope.get("code") if isinstance(envelope, dict) else None
        answer = {"status": status, "code": code, "detail": envelope.get("data") if isinstance(envelope, dict) else text}
        if status in (401, 403):
            raise NacosAuthError(
                f"{where}: Nacos denied access (HTTP {status}): the registry user needs admin rights on this namespace",
                **answer,
            )
        if status == 404 or (status == 200 and code in (404,)):
            raise NacosNotFound(f"{where}: not found: {_message(text)}", **answer)
        # namespace-exists answers 400/22002 on 3.1, agent/MCP name conflicts 409/20005
        if status == 409 or code in (20005, 22002) or (status == 200 and code == 409):
            raise NacosConflict(f"{where}: conflict: {_message(text)}", **answer)
        if status == 400:
            raise NacosBadRequest(f"{where}: Nacos rejected the request: {_message(text)}", **answer)
        if status != 200:
            raise NacosServerError(f"{where}: unexpected HTTP {status}: {_message(text)}", **answer)
        if isinstance(envelope, dict) and "code" in envelope:
            if envelope["code"] != 0:
                raise NacosBadRequest(f"{where}: Nacos answered code {envelope['code']}: {_message(text)}", **answer)
            return envelope.get("data")
        return envelope


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _envelope(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text


def _message(text: str) -> str:
    body = _envelope(text)
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("code", "message", "data") if body.get(k) not in (None, "")]
        return " / ".join(parts)[:500]
    return str(body)[:500]
