"""Fixtures that run a real Nacos 3.1 server (see scripts/nacos_server.py).

The server is assembled from Maven Central by ``scripts/nacos_server.py build``
(cached under ${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/nacos-server/; the
cold path downloads ~200 MB into ~/.m2) and started once per session on free
loopback ports in a temp dir, with auth enabled.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest

_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(_SCRIPTS))

import nacos_server as nacos_mod  # noqa: E402
from dynamic_host import DynamicProviderHost, registry_config  # noqa: E402
from nacos_registry.provider import NamespaceProvider  # noqa: E402


@pytest.fixture(scope="session")
def nacos_server_build() -> nacos_mod.BuildResult:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"real Nacos needs {' and '.join(missing)} on PATH")
    try:
        return nacos_mod.build()
    except nacos_mod.NacosBuildError as e:
        pytest.fail(f"could not build the Nacos test server:\n{e}", pytrace=False)


@pytest.fixture(scope="session")
def nacos_server(nacos_server_build, tmp_path_factory) -> nacos_mod.NacosServer:
    """A running standalone Nacos 3.1: .base_url, .username, .password, .token,
    .grpc_port, .server_addr, .request(method, path, params)."""
    data_dir = tmp_path_factory.mktemp("nacos")
    srv = nacos_mod.NacosServer(data_dir=data_dir)
    try:
        srv.start(nacos_server_build)
    except nacos_mod.NacosStartError as e:
        pytest.fail(f"real Nacos server did not start:\n{e}", pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def host(nacos_server):
    """Pulumi's real dynamic-provider host, configured against the test Nacos."""
    with DynamicProviderHost(registry_config(nacos_server)) as h:
        yield h


@pytest.fixture
def namespace(nacos_server, host):
    """A fresh tenant namespace in Nacos, removed after the test."""
    ns_id = f"t-{uuid.uuid4().hex[:10]}"
    inputs = {"registryKind": "Namespace", "namespaceId": ns_id, "namespaceName": ns_id, "description": "test"}
    props = host.props(NamespaceProvider(), inputs)
    id_, _ = host.create("ns", props)
    yield ns_id
    host.delete("ns", id_, props)
