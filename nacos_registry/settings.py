"""Registry connection settings: one model used by the stack config and by the provider's configure().

The password is never part of this model's stack-file block: it comes from the
secret `registryPassword` (or the stack's `nacosAdminPassword`) and is read by
the provider process in configure(), so it never lands in resource state.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from nacos_registry.client import ConnectionSettings

PROJECT = "agent-runtime"
SETTINGS_KEY = "registry"
PASSWORD_KEYS = ("registryPassword", "nacosAdminPassword")


class RegistrySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    enabled: bool = False
    server_addr: Optional[str] = None
    username: str = "nacos"
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    retry_total_seconds: float = Field(default=30.0, ge=0, le=600)
    ready_timeout_seconds: float = Field(default=300.0, ge=0, le=3600)
    verify_tls: bool = True
    ca_file: Optional[str] = None

    @field_validator("server_addr")
    @classmethod
    def _url(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        if not value.startswith(("http://", "https://")) or value.rstrip("/").endswith("/nacos"):
            raise ValueError(
                f"{value!r} must be the server's base URL, e.g. http://127.0.0.1:8848 (scheme and port, without /nacos)"
            )
        return value.rstrip("/")


class RegistryConfigError(Exception):
    pass


def connection_from_config(get: "Callable[[str], Any]") -> ConnectionSettings:
    """Build connection settings from a config getter taking unprefixed keys (used in configure()).

    The engine may hand over the registry block as a JSON string or as an object.
    """
    raw = get(SETTINGS_KEY)
    try:
        settings = RegistrySettings.model_validate(json.loads(raw) if isinstance(raw, str) else (raw or {}))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise RegistryConfigError(f"{PROJECT}:{SETTINGS_KEY} is invalid: {exc}") from None
    if not settings.server_addr:
        raise RegistryConfigError(f"{PROJECT}:{SETTINGS_KEY}.serverAddr is not set: the provider cannot reach Nacos")
    password = next((p for p in (get(k) for k in PASSWORD_KEYS) if p), None)
    if not password:
        raise RegistryConfigError(
            f"{PROJECT}:registryPassword (or nacosAdminPassword) is not set: "
            "`pulumi config set --secret registryPassword ...`"
        )
    return ConnectionSettings(
        server_addr=settings.server_addr,
        username=settings.username,
        password=password,
        timeout_seconds=settings.timeout_seconds,
        retry_total_seconds=settings.retry_total_seconds,
        ready_timeout_seconds=settings.ready_timeout_seconds,
        verify_tls=settings.verify_tls,
        ca_file=settings.ca_file,
    )


def getter_from_mapping(values: Mapping[str, Any]):
    """Adapter for tests and tools: a plain mapping of unprefixed keys."""
    def get(key: str) -> Optional[str]:
        value = values.get(key)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value)
    return get
