"""Gateway security settings: the `agent-runtime:security` block of a stack file, and what prod requires of it.

Authentication (public issuers, agent identities, API keys), IP lists, WAF, the prompt
guard, per-tier rate limits, AI statistics, tracing, monitoring and TLS, as the stack
file writes them (camelCase keys, unknown keys refused). The plugins that enforce them
are rendered in render/gateway/.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from models.settings_base import Settings

DEFAULT_REDIS_SERVICE = "redis-stack-server.higress-system.svc.cluster.local"
DEFAULT_REDIS_PORT = 6379
Tier = Literal["free", "standard", "premium"]
TIER_ORDER: tuple[str, ...] = ("free", "standard", "premium")
_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _check_public_jwks(value: str) -> str:
    try:
        doc = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"jwks must be an inline JWKS JSON string ({exc.msg})") from None
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValueError('jwks must be a JSON object with a non-empty "keys" array (RFC 7517)')
    for key in keys:
        if not isinstance(key, dict) or "kty" not in key:
            raise ValueError("every JWKS key needs a 'kty'")
        leaked = sorted(_PRIVATE_JWK_MEMBERS & set(key))
        if leaked or key.get("kty") == "oct":
            raise ValueError(
                f"jwks key {key.get('kid', '?')!r} holds private/symmetric material {leaked or ['k']}: stack "
                "config is plain text, only public keys (RSA/EC/OKP) may be configured here"
            )
    return value


class ClaimToHeader(Settings):
    claim: str
    header: str
    override: bool = True  # override so a client cannot pre-set the header


class JwtIssuer(Settings):
    """A public identity provider: one jwt-auth consumer."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    issuer: str = Field(min_length=1)
    jwks: str
    # tenants whose public routes accept tokens of this issuer (None = every tenant)
    tenants: Optional[list[str]] = None
    claims_to_headers: list[ClaimToHeader] = Field(
        default_factory=lambda: [ClaimToHeader(claim="sub", header="x-agent-runtime-subject")]
    )
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    keep_token: bool = True

    @field_validator("jwks")
    @classmethod
    def _jwks(cls, value: str) -> str:
        return _check_public_jwks(value)


class PublicAuthSettings(Settings):
    issuers: list[JwtIssuer] = Field(min_length=1)

    @field_validator("issuers")
    @classmethod
    def _unique(cls, value: list[JwtIssuer]) -> list[JwtIssuer]:
        names = [i.name for i in value]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate issuer names {sorted({n for n in names if names.count(n) > 1})}")
        return value


class InternalAuthSettings(Settings):
    """Agent identities for A2A: each agent's token has iss = <issuer>/<tenant>/<agent>."""

    issuer: str = "https://a2a.agent-runtime.internal"
    jwks: str
    clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    keep_token: bool = False
    # agents that call other agents but serve no route of their own: "<tenant>/<agent>"
    extra_agents: list[str] = Field(default_factory=list)

    @field_validator("jwks")
    @classmethod
    def _jwks(cls, value: str) -> str:
        return _check_public_jwks(value)


class KeyAuthConsumer(Settings):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenants: Optional[list[str]] = None  # None = every tenant's key-auth routes


class KeyAuthSettings(Settings):
    """API keys for service callers, IN ADDITION to JWT on the listed agents' public routes.

    Higress runs every auth plugin matched to a route and all must pass (there is no
    either/or between plugins), so key-auth is a second factor for service routes, not
    a replacement for JWT. Credentials come from the secret config key
    `gatewayKeyAuthCredentials` (JSON object consumer name -> key).
    """

    enabled: bool = False
    consumers: list[KeyAuthConsumer] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)  # "<tenant>/<agent>" public routes needing a key
    keys: list[str] = Field(default_factory=lambda: ["x-api-key"])
    in_header: bool = True
    in_query: bool = False

    @model_validator(mode="after")
    def _complete(self) -> "KeyAuthSettings":
        if self.enabled and (not self.consumers or not self.agents):
            raise ValueError("keyAuth.enabled needs consumers and agents (the '<tenant>/<agent>' routes to guard)")
        if not (self.in_header or self.in_query):
            raise ValueError("keyAuth: at least one of inHeader/inQuery must be true")
        return self


class IpList(Settings):
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)

    @field_validator("allow", "deny")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR") from None
        return value

    @property
    def active(self) -> bool:
        return bool(self.allow or self.deny)


class IpRestrictionSettings(Settings):
    ip_source_type: Literal["origin-source", "header"] = "origin-source"
    ip_header_name: str = "x-forwarded-for"
    public: IpList = IpList()
    a2a: IpList = IpList()
    status: int = Field(default=403, ge=400, le=599)
    message: str = "Your IP address is blocked."


class WafSettings(Settings):
    enabled: bool = True
    mode: Literal["block", "detect"] = "block"
    sec_rules: list[str] = Field(default_factory=list)  # extra ModSecurity directives


class GuardSettings(Settings):
    """Prompt-injection guard: a self-hosted service behind ext-auth (envoy mode)."""

    enabled: Optional[bool] = None  # None: on in prod, off in dev
    service_name: str = "prompt-guard.agent-runtime.svc.cluster.local"
    service_port: int = Field(default=8080, ge=1, le=65535)
    path_prefix: str = "/guard"
    timeout_ms: int = Field(default=2000, ge=100, le=60000)
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024)
    failure_mode_allow: Optional[bool] = None  # None: fail open in dev, closed in prod
    apply_to_a2a: bool = False

    def is_enabled(self, environment: str) -> bool:
        return self.enabled if self.enabled is not None else environment == "prod"

    def fails_open(self, environment: str) -> bool:
        return self.failure_mode_allow if self.failure_mode_allow is not None else environment != "prod"


class TierLimits(Settings):
    tokens_per_minute: int = Field(ge=1)  # ai-token-ratelimit, per consumer per tenant
    requests_per_minute: int = Field(ge=1)  # cluster-key-rate-limit, per consumer per tenant (public)
    a2a_requests_per_minute: int = Field(ge=1, alias="a2aRequestsPerMinute")  # per calling agent per tenant (A2A)
    # all consumers of all tenants of this tier together (None = no ceiling)
    tier_requests_per_second: Optional[int] = Field(default=None, ge=1)


def _default_limits() -> dict[str, TierLimits]:
    return {
        "free": TierLimits(tokens_per_minute=2_000, requests_per_minute=20, a2a_requests_per_minute=60,
                           tier_requests_per_second=20),
        "standard": TierLimits(tokens_per_minute=20_000, requests_per_minute=120, a2a_requests_per_minute=600,
                               tier_requests_per_second=200),
        "premium": TierLimits(tokens_per_minute=100_000, requests_per_minute=600, a2a_requests_per_minute=3_000),
    }


class RateLimitSettings(Settings):
    enabled: bool = True
    tiers: dict[Tier, TierLimits] = Field(default_factory=_default_limits)
    redis_service: str = DEFAULT_REDIS_SERVICE
    redis_port: int = Field(default=DEFAULT_REDIS_PORT, ge=1, le=65535)
    redis_timeout_ms: int = Field(default=1000, ge=50, le=10000)
    rejected_code: int = Field(default=429, ge=400, le=599)

    @model_validator(mode="after")
    def _premium_not_starved(self) -> "RateLimitSettings":
        missing = [t for t in TIER_ORDER if t not in self.tiers]
        if missing:
            raise ValueError(f"rateLimits.tiers: missing tier(s) {missing}")
        for field in ("tokens_per_minute", "requests_per_minute", "a2a_requests_per_minute"):
            values = [getattr(self.tiers[t], field) for t in TIER_ORDER]
            if values != sorted(values):
                raise ValueError(f"rateLimits.tiers: {TierLimits.model_fields[field].alias} must not decrease free <= standard <= premium (got {values})")
        ceilings = [self.tiers[t].tier_requests_per_second for t in TIER_ORDER]
        for lower, higher in zip(ceilings, ceilings[1:]):
            if lower is None and higher is not None:
                raise ValueError("rateLimits.tiers: a lower tier cannot be uncapped while a higher tier has a ceiling")
            if lower is not None and higher is not None and lower > higher:
                raise ValueError("rateLimits.tiers: tierRequestsPerSecond must not decrease free <= standard <= premium")
        return self


class StatisticsSettings(Settings):
    enabled: bool = True
    model_json_path: str = "model"  # where the request body names the model
    log_attributes: bool = True
    span_attributes: bool = True


class TracingSettings(Settings):
    enabled: bool = False
    sampling: float = Field(default=100.0, ge=0, le=100)
    timeout_ms: int = Field(default=500, ge=1)
    provider: Literal["opentelemetry", "zipkin", "skywalking"] = "opentelemetry"
    service: str = ""
    port: int = Field(default=4317, ge=1, le=65535)

    @model_validator(mode="after")
    def _endpoint(self) -> "TracingSettings":
        if self.enabled and not self.service:
            raise ValueError("tracing.enabled needs tracing.service (collector FQDN)")
        return self


class MonitoringSettings(Settings):
    prometheus_operator: bool = False
    labels: dict[str, str] = Field(default_factory=dict)  # e.g. {release: kube-prome} for the Prometheus selector
    interval: str = "30s"
    agent_selector: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/component": "agent", "app.kubernetes.io/part-of": "agent-runtime"}
    )  # the labels components/agent.py puts on agent pods
    agent_metrics_port: str = "metrics"
    agent_metrics_path: str = "/metrics"


class TlsSettings(Settings):
    mode: Literal["none", "secret", "certManager"] = "none"
    hosts: list[str] = Field(default_factory=list)
    secret_name: Optional[str] = None
    cluster_issuer: Optional[str] = None
    issuer: Optional[str] = None
    min_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    ssl_redirect: bool = True

    @model_validator(mode="after")
    def _complete(self) -> "TlsSettings":
        if self.mode != "none" and not self.hosts:
            raise ValueError("tls.hosts: needed when tls.mode is not 'none'")
        if self.mode in ("secret", "certManager") and not self.secret_name:
            raise ValueError("tls.secretName: needed (certManager writes the certificate into it)")
        if self.mode == "certManager" and bool(self.cluster_issuer) == bool(self.issuer):
            raise ValueError("tls: certManager needs exactly one of clusterIssuer / issuer")
        if self.mode != "certManager" and (self.cluster_issuer or self.issuer):
            raise ValueError("tls: clusterIssuer/issuer only apply to mode certManager")
        return self


class InternalMtlsSettings(Settings):
    """Gateway -> agent mTLS on A2A routes (Higress upstream TLS annotations)."""

    enabled: bool = False
    client_secret_name: str = "a2a-gateway-client-tls"  # in each tenant namespace: tls.crt, tls.key, ca.crt
    verify: bool = True


class GatewaySecuritySettings(Settings):
    """The `agent-runtime:security` block of a stack file."""

    public_auth: PublicAuthSettings
    internal_auth: InternalAuthSettings
    key_auth: KeyAuthSettings = KeyAuthSettings()
    ip_restriction: IpRestrictionSettings = IpRestrictionSettings()
    waf: WafSettings = WafSettings()
    guard: GuardSettings = GuardSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    statistics: StatisticsSettings = StatisticsSettings()
    tracing: TracingSettings = TracingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    tls: TlsSettings = TlsSettings()
    internal_mtls: InternalMtlsSettings = InternalMtlsSettings()


def environment_problems(settings: GatewaySecuritySettings, environment: str) -> list[str]:
    """What an environment requires beyond the model's own checks (prod is strict)."""
    problems: list[str] = []
    if environment == "prod":
        if not settings.guard.is_enabled("prod"):
            problems.append("security.guard.enabled: the prompt-injection guard must be on in prod")
        if settings.guard.fails_open("prod"):
            problems.append("security.guard.failureModeAllow: prod must fail closed when the guard is down")
        if not settings.waf.enabled or settings.waf.mode != "block":
            problems.append("security.waf: prod needs the WAF enabled in mode 'block'")
        if settings.tls.mode == "none":
            problems.append("security.tls.mode: prod needs TLS on the public listener (secret or certManager)")
        if not settings.rate_limits.enabled:
            problems.append("security.rateLimits.enabled: prod needs rate limits")
    return problems

