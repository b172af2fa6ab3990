#!/usr/bin/env python3
"""Build, start and stop a real standalone Nacos 3.1 server for local tests.

The server is assembled from Maven Central only (see tools/nacos-server/pom.xml):
Maven resolves the published Nacos 3.1 server modules into ~/.m2 and our tiny
launcher starts the same Spring contexts as the upstream distribution (core,
server API on ``port`` with context path ``/nacos``, console on
``console_port``). Build output lives outside the repo, in
``${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/nacos-server/``.

Stdlib only. CLI::

    python scripts/nacos_server.py build [--force]
    python scripts/nacos_server.py start --port 8848 --data-dir DIR [--password PW]
    python scripts/nacos_server.py stop --data-dir DIR

Python API (used by tests/registry/conftest.py)::

    with NacosServer(data_dir=tmp) as srv:      # free loopback ports by default
        srv.base_url, srv.username, srv.password, srv.grpc_port, srv.token

Ports: Nacos derives client gRPC = port+1000, cluster gRPC = port+1001 and
JRaft = port-1000 (JRaft runs even in standalone mode); the console has its
own port. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from maven_build import BuildResult, MavenBuildError, MavenTool
from processes import alive, tail, terminate

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOL_DIR = REPO_ROOT / "tools" / "nacos-server"
LAUNCHER_CLASS = "agentruntime.nacos.NacosTestLauncher"
JAR_NAME = "nacos-test-server-0.1.0.jar"
STATE_FILE = "nacos-server.json"
BIND_HOST = "127.0.0.1"
DEFAULT_USERNAME = "nacos"
# Nacos' fixed offsets from the main port.
GRPC_OFFSET = 1000
CLUSTER_GRPC_OFFSET = 1001
RAFT_OFFSET = -1000


class NacosBuildError(MavenBuildError):
    """Maven could not assemble the server."""


class NacosStartError(RuntimeError):
    """The server did not become ready; the message carries the log tail."""


# the Maven project that resolves the server modules and compiles the launcher
TOOL = MavenTool("nacos-server", TOOL_DIR, "nacos.build.dir", goals=("clean", "package"), jar_name=JAR_NAME, error=NacosBuildError)


def cache_dir() -> Path:
    return TOOL.cache_dir()


def build(force: bool = False, quiet: bool = True) -> BuildResult:
    """Resolve the server into ~/.m2 and compile the launcher (idempotent, cached)."""
    return TOOL.build(force=force, quiet=quiet, announce="resolving Nacos 3.1 from Maven Central")


# --------------------------------------------------------------------------- ports


def _port_free(port: int) -> bool:
    if not 0 < port < 65536:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((BIND_HOST, port))
        except OSError:
            return False
    return True


def derived_ports(port: int) -> dict[str, int]:
    return {
        "http": port,
        "grpc": port + GRPC_OFFSET,
        "cluster_grpc": port + CLUSTER_GRPC_OFFSET,
        "raft": port + RAFT_OFFSET,
    }


def default_console_port(port: int) -> int:
    """8080 next to the default 8848; otherwise port+1002 (next to the gRPC pair)."""
    return 8080 if port == 8848 else port + 1002


def find_free_ports(attempts: int = 200) -> tuple[int, int]:
    """A main port whose derived ports and default console port are all free."""
    rng = secrets.SystemRandom()
    for _ in range(attempts):
        # every derived port stays below Linux's ephemeral range (32768+): an outgoing connection
        # can take a port there at any moment, which broke a restart on the same ports (seen in CI)
        port = rng.randrange(21000, 31000)
        wanted = list(derived_ports(port).values()) + [default_console_port(port)]
        if all(_port_free(p) for p in wanted):
            return port, default_console_port(port)
    raise NacosStartError("no free loopback port set found for Nacos")


# --------------------------------------------------------------------------- http


def http(method: str, url: str, params: dict[str, Any] | None = None,
         token: str | None = None, timeout: float = 10.0) -> tuple[int, Any]:
    """Tiny form-encoded HTTP helper. Returns (status, parsed JSON or text)."""
    data = None
    params = {k: v for k, v in (params or {}).items() if v is not None}
    headers = {}
    if token:
        headers["accessToken"] = token
    if method in ("GET", "DELETE"):
        if params:
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    else:
        data = urllib.parse.urlencode(params).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# --------------------------------------------------------------------------- server


def _properties(port: int, console_port: int, token_key: str, identity_key: str,
                identity_value: str, logs_dir: Path) -> str:
    props = {
        "nacos.server.main.port": port,
        "nacos.server.contextPath": "/nacos",
        "nacos.console.port": console_port,
        "nacos.console.contextPath": "",
        # Listen on loopback only (Tomcat for both web contexts) and announce it.
        "server.address": BIND_HOST,
        "nacos.inetutils.ip-address": BIND_HOST,
        "nacos.logs.path": logs_dir,
        "server.error.include-message": "ALWAYS",
        "server.tomcat.accesslog.enabled": "false",
        "spring.sql.init.platform": "",  # embedded Derby
        "nacos.core.auth.system.type": "nacos",
        "nacos.core.auth.enabled": "true",
        "nacos.core.auth.admin.enabled": "true",
        "nacos.core.auth.console.enabled": "true",
        # No 15 s cache delay for user/permission changes in tests.
        "nacos.core.auth.caching.enabled": "false",
        "nacos.core.auth.server.identity.key": identity_key,
        "nacos.core.auth.server.identity.value": identity_value,
        "nacos.core.auth.plugin.nacos.token.cache.enable": "false",
        "nacos.core.auth.plugin.nacos.token.expire.seconds": 18000,
        "nacos.core.auth.plugin.nacos.token.secret.key": token_key,
        "nacos.istio.mcp.server.enabled": "false",
        "nacos.k8s.sync.enabled": "false",
        "nacos.prometheus.metrics.enabled": "false",
        "management.elastic.metrics.export.enabled": "false",
        "management.influx.metrics.export.enabled": "false",
        "nacos.naming.empty-service.auto-clean": "true",
    }
    lines = ["# written by scripts/nacos_server.py"]
    lines += [f"{k}={v}" for k, v in props.items()]
    return "\n".join(lines) + "\n"


class NacosServer:
    """A real Nacos 3.1 server process on loopback ports.

    ``port=None`` picks free ports. ``data_dir=None`` uses a temp dir that is
    removed on stop. Use as a context manager or call start()/stop().
    """

    def __init__(self, port: int | None = None, console_port: int | None = None,
                 data_dir: str | os.PathLike | None = None, password: str | None = None,
                 username: str = DEFAULT_USERNAME, startup_timeout: float = 180.0,
                 java: str | None = None, heap: str = "512m", keep_data: bool | None = None):
        if port is None:
            port, auto_console = find_free_ports()
            console_port = console_port or auto_console
        self.port = port
        self.console_port = console_port or default_console_port(port)
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="nacos-")).resolve()
        self.keep_data = (not self._own_dir) if keep_data is None else keep_data
        self.username = username
        self.password = password or secrets.token_urlsafe(18)
        self.startup_timeout = startup_timeout
        self.java = java or shutil.which("java") or "java"
        self.heap = heap
        self.token_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.identity_key = "agent-runtime-test"
        self.identity_value = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self.startup_seconds: float | None = None
        self.token: str | None = None

    # -- derived values
    @property
    def host(self) -> str:
        return BIND_HOST

    @property
    def server_addr(self) -> str:
        return f"{BIND_HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{BIND_HOST}:{self.port}/nacos"

    @property
    def console_url(self) -> str:
        return f"http://{BIND_HOST}:{self.console_port}"

    @property
    def grpc_port(self) -> int:
        return self.port + GRPC_OFFSET

    @property
    def raft_port(self) -> int:
        return self.port + RAFT_OFFSET

    @property
    def stdout_log(self) -> Path:
        return self.data_dir / "nacos-stdout.log"

    @property
    def nacos_log(self) -> Path:
        return self.data_dir / "logs" / "nacos.log"

    def info(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "port": self.port,
            "grpc_port": self.grpc_port,
            "cluster_grpc_port": self.port + CLUSTER_GRPC_OFFSET,
            "raft_port": self.raft_port,
            "console_port": self.console_port,
            "base_url": self.base_url,
            "console_url": self.console_url,
            "server_addr": self.server_addr,
            "username": self.username,
            "password": self.password,
            "identity_key": self.identity_key,
            "identity_value": self.identity_value,
            "data_dir": str(self.data_dir),
            "stdout_log": str(self.stdout_log),
            "startup_seconds": self.startup_seconds,
        }

    # -- lifecycle
    def start(self, artifacts: BuildResult | None = None) -> "NacosServer":
        artifacts = artifacts or build()
        busy = [p for p in list(derived_ports(self.port).values()) + [self.console_port]
                if not _port_free(p)]
        if busy:
            raise NacosStartError(f"ports already in use on {BIND_HOST}: {busy}")
        conf = self.data_dir / "conf"
        logs = self.data_dir / "logs"
        conf.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        (conf / "application.properties").write_text(_properties(
            self.port, self.console_port, self.token_key, self.identity_key,
            self.identity_value, logs))
        cmd = [
            self.java, f"-Xms{self.heap}", f"-Xmx{self.heap}",
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
            "-Djava.awt.headless=true",
            "-Dnacos.standalone=true",
            "-Dnacos.deployment.type=merged",
            f"-Dnacos.home={self.data_dir}",
            f"-Dnacos.logs.path={logs}",
            f"-Dnacos.remote.grpc.listen.ip={BIND_HOST}",
            f"-Dagentruntime.nacos.bind={BIND_HOST}",
            f"-Dspring.config.additional-location=file:{conf}/",
            "-cp", artifacts.java_classpath(),
            LAUNCHER_CLASS,
        ]
        t0 = time.monotonic()
        with open(self.stdout_log, "ab") as out:
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=str(self.data_dir), start_new_session=True)
        self.pid = self.process.pid
        try:
            self._wait_ready(t0)
            self._ensure_admin()
            self.token = self.login()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = round(time.monotonic() - t0, 2)
        return self

    def _failure(self, why: str) -> NacosStartError:
        self.keep_data = True  # keep the logs of a failed start for inspection
        recent = tail(self.stdout_log, 400)
        causes = [ln.strip() for ln in recent.splitlines()
                  if ln.startswith("Caused by:") or "NACOS-TEST-LAUNCHER" in ln
                  or " ERROR " in ln or ln.startswith("Exception")]
        summary = "\n".join(c[:400] for c in causes[-6:]) or "(no exception lines found)"
        return NacosStartError(
            f"Nacos {why}\n--- likely causes:\n{summary}"
            f"\n--- tail of {self.stdout_log}:\n{tail(self.stdout_log, 25)}"
            f"\n--- tail of {self.nacos_log}:\n{tail(self.nacos_log, 15)}")

    def _wait_ready(self, t0: float) -> None:
        url = f"{self.console_url}/v3/console/health/readiness"
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise self._failure(f"exited with code {self.process.returncode} during start-up")
            try:
                status, _ = http("GET", url, timeout=2)
                if status == 200:
                    return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() - t0 > self.startup_timeout:
                raise self._failure(f"not ready after {self.startup_timeout:.0f}s ({url})")
            time.sleep(0.25)

    def _ensure_admin(self) -> None:
        status, body = http("POST", f"{self.base_url}/v3/auth/user/admin",
                            {"password": self.password})
        if status == 200 and isinstance(body, dict) and body.get("code") == 0:
            return
        # body code 409: the admin exists already (re-used data dir); login decides.
        if status == 200 and isinstance(body, dict) and body.get("code") == 409:
            return
        raise self._failure(f"admin user creation failed: HTTP {status} {body!r}")

    def login(self, username: str | None = None, password: str | None = None) -> str:
        status, body = http("POST", f"{self.base_url}/v3/auth/user/login",
                            {"username": username or self.username,
                             "password": password or self.password})
        if status != 200 or not isinstance(body, dict) or "accessToken" not in body:
            raise NacosStartError(f"login failed: HTTP {status} {body!r}")
        return body["accessToken"]

    def request(self, method: str, path: str, params: dict[str, Any] | None = None,
                auth: bool = True) -> tuple[int, Any]:
        """HTTP call against base_url (path like '/v3/admin/ai/a2a') with the token."""
        return http(method, self.base_url + path, params, token=self.token if auth else None)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is not None:
            terminate(self.process.pid, timeout, popen=self.process)
            self.process = None
        if self._own_dir and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "NacosServer":
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- cli


def _cmd_build(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    result = build(force=args.force, quiet=not args.verbose)
    print(json.dumps({"jar": str(result.jar), "built": result.built,
                      "classpath_entries": len(result.classpath.split(os.pathsep)),
                      "seconds": round(time.monotonic() - t0, 1)}))
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    state = data_dir / STATE_FILE
    if state.is_file():
        old = json.loads(state.read_text())
        if old.get("pid") and alive(old["pid"]):
            print(f"already running: pid {old['pid']} (see {state})", file=sys.stderr)
            return 1
    srv = NacosServer(port=args.port, console_port=args.console_port, data_dir=data_dir,
                      password=args.password, startup_timeout=args.timeout, heap=args.heap,
                      keep_data=True)
    try:
        srv.start()
    except (NacosStartError, NacosBuildError) as e:
        print(str(e), file=sys.stderr)
        return 1
    info = srv.info()
    state.write_text(json.dumps(info, indent=2) + "\n")
    os.chmod(state, 0o600)
    srv.process = None  # leave it running: `stop` ends it
    print(json.dumps(info, indent=2))
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    state = Path(args.data_dir).resolve() / STATE_FILE
    if not state.is_file():
        print(f"no {state}: nothing to stop", file=sys.stderr)
        return 1
    info = json.loads(state.read_text())
    pid = info.get("pid")
    if pid and alive(pid):
        terminate(pid, args.timeout)
        print(json.dumps({"stopped": pid}))
    else:
        print(json.dumps({"stopped": None, "note": f"pid {pid} not running"}))
    state.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="resolve Nacos from Maven Central and build the launcher")
    b.add_argument("--force", action="store_true")
    b.add_argument("--verbose", action="store_true")
    s = sub.add_parser("start", help="start a standalone server in the background")
    s.add_argument("--port", type=int, default=8848)
    s.add_argument("--console-port", type=int, default=None,
                   help="default: 8080 for port 8848, else port+1002")
    s.add_argument("--data-dir", required=True)
    s.add_argument("--password", default=None, help="admin password (default: generated)")
    s.add_argument("--timeout", type=float, default=180.0)
    s.add_argument("--heap", default="512m")
    t = sub.add_parser("stop", help="stop the server started with this data dir")
    t.add_argument("--data-dir", required=True)
    t.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args(argv)
    return {"build": _cmd_build, "start": _cmd_start, "stop": _cmd_stop}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
