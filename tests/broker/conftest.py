"""Fixtures that run a real Apache RocketMQ 5.3.3 (see scripts/rocketmq_server.py).

RocketMQ is resolved from Maven Central by ``scripts/rocketmq_server.py build`` (cached under
${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/rocketmq-server/; scripts/prepare.sh runs it) and
started once per session on free loopback ports in a temp dir: a name server and the broker with
its gRPC proxy, ACL 2.0 on. A part that cannot be had fails the tests with the reason.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
for _p in (_ROOT / "scripts", _ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import rocketmq_server as mq_mod  # noqa: E402
from rocketmq_admin import RocketMQAdmin  # noqa: E402


@pytest.fixture(scope="session")
def rocketmq_build() -> mq_mod.BuildResult:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the real RocketMQ needs {' and '.join(missing)} on PATH", pytrace=False)
    try:
        return mq_mod.build()
    except mq_mod.RocketMQBuildError as e:
        pytest.fail(f"could not resolve RocketMQ from Maven Central:\n{e}", pytrace=False)


@pytest.fixture(scope="module")
def rocketmq(rocketmq_build, tmp_path_factory) -> mq_mod.RocketMQServer:
    """A running name server + broker + gRPC proxy: .namesrv_addr, .broker_addr,
    .proxy_endpoint, .cluster, .admin_user, .admin_password.

    Per module, not per session: the two JVMs (~0.5 GB) stop before the end-to-end tests run."""
    srv = mq_mod.RocketMQServer(data_dir=tmp_path_factory.mktemp("rocketmq"))
    try:
        srv.start(rocketmq_build)
    except mq_mod.RocketMQStartError as e:
        pytest.fail(f"real RocketMQ did not start:\n{e}", pytrace=False)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def admin(rocketmq) -> RocketMQAdmin:
    """The admin path a provider uses, as the initial super user."""
    with RocketMQAdmin(rocketmq.namesrv_addr, rocketmq.cluster, rocketmq.admin_user,
                       rocketmq.admin_password) as client:
        yield client


@pytest.fixture
def name():
    """Unique resource names (RocketMQ names: letters, digits, - and _)."""
    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"
    return make
