#!/usr/bin/env python3
"""Build, start and stop a real Apache RocketMQ 5.3 (name server + broker + gRPC proxy) for tests.

RocketMQ is resolved from Maven Central only (see tools/rocketmq-server/pom.xml): Maven puts the
published ``org.apache.rocketmq`` 5.3.3 modules into ~/.m2 and writes their runtime classpath to
``${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/rocketmq-server/build/classpath.txt``. Nothing is
compiled: the upstream main classes run as the official image's scripts run them, in two JVMs:

- the name server (``NamesrvStartup``, what ``mqnamesrv`` runs);
- the broker inside the gRPC proxy's JVM (``ProxyStartup -pm local``, what ``mqbroker
  --enable-proxy`` runs): 5.x clients (rocketmq-python-client) speak gRPC to the proxy, admin
  tools speak the remoting protocol to the broker.

Authentication and authorization (ACL 2.0) are always on: the broker creates the initial super
user from ``initAuthenticationUser`` on first start and keeps users and ACLs in RocksDB under its
store; the proxy checks every gRPC call against the broker's users and ACLs. Topics and consumer
groups are never created implicitly (``autoCreateTopicEnable=false``,
``autoCreateSubscriptionGroup=false``): only an admin call makes them, as the stack will.

Stdlib only (the remoting client it polls readiness with, rocketmq_admin.remoting, is too). CLI::

    python scripts/rocketmq_server.py build [--force] [--verbose]
    python scripts/rocketmq_server.py start --data-dir DIR [--password PW]
    python scripts/rocketmq_server.py stop --data-dir DIR

Python API (used by tests/broker/conftest.py)::

    with RocketMQServer() as mq:          # free loopback ports, temp data dir
        mq.namesrv_addr, mq.broker_addr, mq.proxy_endpoint, mq.admin_user, mq.admin_password

Ports, all below Linux's ephemeral range (32768+) like the Nacos test server's: name server
``base``, broker remoting ``base+10`` (its fast channel ``base+8`` and HA ``base+11`` are derived
by the broker), gRPC proxy ``base+20``, proxy remoting ``base+21``. The name server and the broker
bind 127.0.0.1 only; the proxy (gRPC and its remoting port) binds every interface because
RocketMQ 5.3.3 has no bind-address setting for it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from maven_build import BuildResult, MavenBuildError, MavenTool
from processes import alive, tail, terminate

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
from rocketmq_admin.remoting import Connection, RemotingError, RemotingUnreachable, parse_json  # noqa: E402

TOOL_DIR = REPO_ROOT / "tools" / "rocketmq-server"
ROCKETMQ_VERSION = "5.3.3"
STATE_FILE = "rocketmq-server.json"
BIND_HOST = "127.0.0.1"
CLUSTER_NAME = "AgentRuntimeTest"
BROKER_NAME = "broker-a"
DEFAULT_ADMIN_USER = "rocketmq-admin"
NAMESRV_MAIN = "org.apache.rocketmq.namesrv.NamesrvStartup"
PROXY_MAIN = "org.apache.rocketmq.proxy.ProxyStartup"
MQADMIN_MAIN = "org.apache.rocketmq.tools.command.MQAdminStartup"
PROXY_READY_LINE = "rocketmq-proxy startup successfully"
GET_BROKER_CLUSTER_INFO = 106  # remoting request code: the name server's cluster table
# Offsets from the base port (see the module docstring).
BROKER_OFFSET = 10
FAST_OFFSET = BROKER_OFFSET - 2
HA_OFFSET = BROKER_OFFSET + 1
GRPC_OFFSET = 20
PROXY_REMOTING_OFFSET = 21
# RocketMQ 5.3 on JDK 17: the store unmaps its files through java.nio internals.
JDK17_OPENS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
]


class RocketMQBuildError(MavenBuildError):
    """Maven could not resolve RocketMQ; the message names the artifact and carries the log tail."""


class RocketMQStartError(RuntimeError):
    """A RocketMQ process did not become ready; the message carries its log tail."""


# the Maven project that resolves RocketMQ's server and tools jars (no launcher of our own)
TOOL = MavenTool("rocketmq-server", TOOL_DIR, "rocketmq.build.dir", error=RocketMQBuildError)


def cache_dir() -> Path:
    return TOOL.cache_dir()


def build(force: bool = False, quiet: bool = True) -> BuildResult:
    """Resolve RocketMQ into ~/.m2 and record its classpath (idempotent, cached by pom hash)."""
    return TOOL.build(force=force, quiet=quiet,
                      announce=f"resolving RocketMQ {ROCKETMQ_VERSION} from Maven Central (cold: ~100 MB into ~/.m2)")


# --------------------------------------------------------------------------- ports


def _port_free(port: int) -> bool:
    if not 0 < port < 65536:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))  # the proxy binds every interface: check the widest
        except OSError:
            return False
    return True


def derived_ports(base: int) -> dict[str, int]:
    return {
        "namesrv": base,
        "broker": base + BROKER_OFFSET,
        "broker_fast": base + FAST_OFFSET,
        "broker_ha": base + HA_OFFSET,
        "grpc": base + GRPC_OFFSET,
        "proxy_remoting": base + PROXY_REMOTING_OFFSET,
    }


def find_free_base_port(attempts: int = 200) -> int:
    """A base port whose derived ports are all free, below the ephemeral range (32768+): an
    outgoing connection can take an ephemeral port at any moment (seen breaking Nacos restarts)."""
    rng = secrets.SystemRandom()
    for _ in range(attempts):
        base = rng.randrange(21000, 31000)
        if all(_port_free(p) for p in derived_ports(base).values()):
            return base
    raise RocketMQStartError("no free loopback port set found for RocketMQ")


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((BIND_HOST, port), timeout=1):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- config files


def _namesrv_conf(port: int) -> str:
    props = {"listenPort": port, "bindAddress": BIND_HOST}
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _broker_conf(ports: dict[str, int], store: Path, admin_user: str, admin_password: str) -> str:
    credentials = json.dumps({"accessKey": admin_user, "secretKey": admin_password})
    props: dict[str, Any] = {
        "brokerClusterName": CLUSTER_NAME,
        "brokerName": BROKER_NAME,
        "brokerId": 0,
        "brokerRole": "ASYNC_MASTER",
        "flushDiskType": "ASYNC_FLUSH",
        "namesrvAddr": f"{BIND_HOST}:{ports['namesrv']}",
        "listenPort": ports["broker"],
        "haListenPort": ports["broker_ha"],
        "bindAddress": BIND_HOST,
        "brokerIP1": BIND_HOST,
        "storePathRootDir": store,
        "storePathCommitLog": store / "commitlog",
        # small sparse files: the defaults (1 GiB commit log, 100 MiB timer log) are for servers
        "mappedFileSizeCommitLog": 64 * 1024 * 1024,
        "mappedFileSizeTimerLog": 16 * 1024 * 1024,
        # resources exist only when an admin call makes them (as the stack's provider will)
        "autoCreateTopicEnable": "false",
        "autoCreateSubscriptionGroup": "false",
        # ACL 2.0 (RocketMQ >= 5.3): users and ACLs in the broker's RocksDB under the store
        "authenticationEnabled": "true",
        "authenticationProvider":
            "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider",
        "authenticationMetadataProvider":
            "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider",
        "authorizationEnabled": "true",
        "authorizationProvider":
            "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider",
        "authorizationMetadataProvider":
            "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider",
        "initAuthenticationUser": json.dumps({"username": admin_user, "password": admin_password}),
        "innerClientAuthenticationCredentials": credentials,
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def _proxy_json(ports: dict[str, int], admin_user: str, admin_password: str) -> str:
    """The proxy checks gRPC calls itself, against the users and ACLs of its in-JVM broker."""
    return json.dumps({
        "rocketMQClusterName": CLUSTER_NAME,
        "proxyMode": "local",
        "grpcServerPort": ports["grpc"],
        "remotingListenPort": ports["proxy_remoting"],
        "namesrvAddr": f"{BIND_HOST}:{ports['namesrv']}",
        "localServeAddr": BIND_HOST,
        "authenticationEnabled": True,
        "authenticationProvider":
            "org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider",
        "authenticationMetadataProvider":
            "org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider",
        "authorizationEnabled": True,
        "authorizationProvider":
            "org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider",
        "authorizationMetadataProvider":
            "org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider",
        "innerClientAuthenticationCredentials":
            json.dumps({"accessKey": admin_user, "secretKey": admin_password}),
    }, indent=2) + "\n"


# --------------------------------------------------------------------------- server


def java_command(java: str, heap: str, home: Path, logback: str, classpath: str,
                 main: str, args: list[str]) -> list[str]:
    """One RocketMQ JVM: small heap, logs under ``home`` (the upstream logback files write to
    ${user.home}/logs/rocketmqlogs), the upstream logback file picked as the scripts pick it."""
    return [
        java, f"-Xms{heap}", f"-Xmx{heap}", "-XX:MaxDirectMemorySize=256m",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-XX:-OmitStackTraceInFastThrow",
        "-Djava.awt.headless=true", f"-Duser.home={home}", f"-Drocketmq.home.dir={home}",
        f"-Drmq.logback.configurationFile={logback}",
        *JDK17_OPENS, "-cp", classpath, main, *args,
    ]


class RocketMQServer:
    """A real RocketMQ 5.3 name server and broker+proxy on loopback ports, ACL 2.0 on.

    ``base_port=None`` picks free ports; ``data_dir=None`` uses a temp dir removed on stop.
    Use as a context manager or call start()/stop().
    """

    def __init__(self, base_port: int | None = None, data_dir: str | os.PathLike | None = None,
                 admin_user: str = DEFAULT_ADMIN_USER, admin_password: str | None = None,
                 startup_timeout: float = 180.0, java: str | None = None,
                 namesrv_heap: str = "128m", broker_heap: str = "384m",
                 keep_data: bool | None = None):
        self.base_port = base_port or find_free_base_port()
        self.ports = derived_ports(self.base_port)
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="rocketmq-")).resolve()
        self.keep_data = (not self._own_dir) if keep_data is None else keep_data
        self.admin_user = admin_user
        self.admin_password = admin_password or secrets.token_urlsafe(18)
        self.startup_timeout = startup_timeout
        self.java = java or shutil.which("java") or "java"
        self.namesrv_heap = namesrv_heap
        self.broker_heap = broker_heap
        self.namesrv: subprocess.Popen | None = None
        self.proxy: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self.artifacts: BuildResult | None = None

    # -- addresses
    @property
    def host(self) -> str:
        return BIND_HOST

    @property
    def cluster(self) -> str:
        return CLUSTER_NAME

    @property
    def broker_name(self) -> str:
        return BROKER_NAME

    @property
    def namesrv_addr(self) -> str:
        return f"{BIND_HOST}:{self.ports['namesrv']}"

    @property
    def broker_addr(self) -> str:
        return f"{BIND_HOST}:{self.ports['broker']}"

    @property
    def proxy_endpoint(self) -> str:
        """Where 5.x gRPC clients (rocketmq-python-client) connect."""
        return f"{BIND_HOST}:{self.ports['grpc']}"

    def log_path(self, component: str) -> Path:
        return self.data_dir / component / "stdout.log"

    def upstream_log(self, component: str, name: str) -> Path:
        return self.data_dir / component / "logs" / "rocketmqlogs" / name

    def info(self) -> dict[str, Any]:
        return {
            "namesrv_pid": self.namesrv.pid if self.namesrv else None,
            "proxy_pid": self.proxy.pid if self.proxy else None,
            "ports": self.ports,
            "namesrv_addr": self.namesrv_addr,
            "broker_addr": self.broker_addr,
            "proxy_endpoint": self.proxy_endpoint,
            "cluster": self.cluster,
            "broker_name": self.broker_name,
            "admin_user": self.admin_user,
            "admin_password": self.admin_password,
            "data_dir": str(self.data_dir),
            "startup_seconds": self.startup_seconds,
            "version": ROCKETMQ_VERSION,
        }

    # -- lifecycle
    def start(self, artifacts: BuildResult | None = None) -> "RocketMQServer":
        self.artifacts = artifacts or build()
        busy = [p for p in self.ports.values() if not _port_free(p)]
        if busy:
            raise RocketMQStartError(f"ports already in use: {busy}")
        t0 = time.monotonic()
        try:
            self.namesrv = self._spawn_namesrv()
            self._wait(self.namesrv, "namesrv", t0, lambda: _tcp_open(self.ports["namesrv"]))
            self.proxy = self._spawn_proxy()
            self._wait(self.proxy, "proxy", t0, self._proxy_ready)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = round(time.monotonic() - t0, 2)
        return self

    def _spawn(self, component: str, logback: str, heap: str, main: str,
               args: list[str]) -> subprocess.Popen:
        home = self.data_dir / component
        home.mkdir(parents=True, exist_ok=True)
        assert self.artifacts is not None
        cmd = java_command(self.java, heap, home, logback, self.artifacts.java_classpath(),
                           main, args)
        with open(self.log_path(component), "ab") as out:
            return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=str(home),
                                    start_new_session=True)

    def _spawn_namesrv(self) -> subprocess.Popen:
        conf = self.data_dir / "namesrv" / "namesrv.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(_namesrv_conf(self.ports["namesrv"]))
        return self._spawn("namesrv", "rmq.namesrv.logback.xml", self.namesrv_heap,
                           NAMESRV_MAIN, ["-c", str(conf)])

    def _spawn_proxy(self) -> subprocess.Popen:
        conf_dir = self.data_dir / "broker"
        conf_dir.mkdir(parents=True, exist_ok=True)
        broker_conf = conf_dir / "broker.conf"
        proxy_conf = conf_dir / "rmq-proxy.json"
        broker_conf.write_text(_broker_conf(self.ports, self.data_dir / "broker" / "store",
                                            self.admin_user, self.admin_password))
        proxy_conf.write_text(_proxy_json(self.ports, self.admin_user, self.admin_password))
        for path in (broker_conf, proxy_conf):  # they hold the admin password
            os.chmod(path, 0o600)
        return self._spawn("broker", "rmq.proxy.logback.xml", self.broker_heap, PROXY_MAIN,
                           ["-pm", "local", "-bc", str(broker_conf), "-pc", str(proxy_conf),
                            "-n", self.namesrv_addr])

    def _proxy_ready(self) -> bool:
        """Proxy up, and the broker registered at the name server: clients and admin calls
        find brokers only there, and the broker's first registration runs 10 s after its start."""
        if PROXY_READY_LINE not in tail(self.log_path("broker"), 200):
            return False
        return _tcp_open(self.ports["grpc"]) and self._broker_registered()

    def _broker_registered(self) -> bool:
        try:
            with Connection(self.namesrv_addr, None, None, timeout=2) as conn:
                answer = conn.request("broker cluster info", GET_BROKER_CLUSTER_INFO)
        except (RemotingError, RemotingUnreachable):
            return False
        clusters = parse_json(answer.body).get("clusterAddrTable") or {}
        return BROKER_NAME in (clusters.get(CLUSTER_NAME) or [])

    def _wait(self, proc: subprocess.Popen, component: str, t0: float, ready) -> None:
        while not ready():
            if proc.poll() is not None:
                raise self._failure(component, f"exited with code {proc.returncode} during start-up")
            if time.monotonic() - t0 > self.startup_timeout:
                raise self._failure(component, f"not ready after {self.startup_timeout:.0f}s")
            time.sleep(0.2)

    def _failure(self, component: str, why: str) -> RocketMQStartError:
        self.keep_data = True  # keep the logs of a failed start for inspection
        logs = {"namesrv": ["namesrv.log"], "broker": ["broker.log", "proxy.log"]}[component]
        parts = [f"RocketMQ {component} {why}",
                 f"--- tail of {self.log_path(component)}:\n{tail(self.log_path(component), 25)}"]
        for name in logs:
            path = self.upstream_log(component, name)
            if path.exists():
                parts.append(f"--- tail of {path}:\n{tail(path, 15)}")
        return RocketMQStartError("\n".join(parts))

    def stop(self, timeout: float = 30.0) -> None:
        """Proxy+broker first (it deregisters from the name server), then the name server."""
        for attr in ("proxy", "namesrv"):
            proc = getattr(self, attr)
            if proc is not None:
                terminate(proc.pid, timeout, popen=proc)
                setattr(self, attr, None)
        if self._own_dir and not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> "RocketMQServer":
        if self.proxy is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- rendered configs

# what the official image's bin/runserver.sh and bin/runbroker.sh (apache/rocketmq-docker
# image-build/scripts/run*-customize.sh) do, on this machine's JDK 17: HEAP_OPTS replaces the
# default heap, JAVA_OPT_EXT is appended, then `java ... "$@"` with the upstream launcher's
# arguments (-Drmq.logback.configurationFile=..., the main class, its options)
_IMAGE_RUNNER = """#!/bin/sh
exec {java} ${{HEAP_OPTS:-{default_heap}}} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k \\
  -XX:-OmitStackTraceInFastThrow -Djava.awt.headless=true -Duser.home="$RMQ_USER_HOME" \\
  {opens} ${{JAVA_OPT_EXT:-}} -cp "{classpath}" "$@"
"""
LOGBACK_FILES = ("rmq.namesrv.logback.xml", "rmq.broker.logback.xml", "rmq.proxy.logback.xml",
                 "rmq.tools.logback.xml")


def image_like_home(artifacts: BuildResult, home: Path, java: str | None = None) -> Path:
    """A stand-in for the image's ROCKETMQ_HOME: bin/runserver.sh and bin/runbroker.sh as the image
    has them (HEAP_OPTS, JAVA_OPT_EXT), conf/ with the upstream logback files (taken from the jars
    that carry them, as the distribution's conf/ holds them). The jars come from Maven Central,
    not from a distribution zip; each process gets its user.home from $RMQ_USER_HOME."""
    import zipfile

    (home / "bin").mkdir(parents=True, exist_ok=True)
    (home / "conf").mkdir(parents=True, exist_ok=True)
    java = java or shutil.which("java") or "java"
    for name, heap in (("runserver.sh", "-Xms128m -Xmx128m"), ("runbroker.sh", "-Xms384m -Xmx384m")):
        script = home / "bin" / name
        script.write_text(_IMAGE_RUNNER.format(java=java, default_heap=heap, opens=" ".join(JDK17_OPENS),
                                               classpath=artifacts.java_classpath()))
        script.chmod(0o755)
    wanted = set(LOGBACK_FILES)
    for entry in artifacts.java_classpath().split(os.pathsep):
        if not wanted or not entry.endswith(".jar"):
            continue
        with zipfile.ZipFile(entry) as jar:
            for name in list(wanted):
                if name in jar.namelist():
                    (home / "conf" / name).write_bytes(jar.read(name))
                    wanted.discard(name)
    if wanted:
        raise RocketMQStartError(f"logback files not found in the RocketMQ jars: {sorted(wanted)}")
    return home


def set_properties(text: str, overrides: dict[str, Any]) -> str:
    """A properties file with some keys replaced (or appended): e.g. ports for loopback tests."""
    lines, seen = [], set()
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in overrides and "=" in line:
            lines.append(f"{key}={overrides[key]}")
            seen.add(key)
        else:
            lines.append(line)
    lines += [f"{k}={v}" for k, v in overrides.items() if k not in seen]
    return "\n".join(lines) + "\n"


def start_script_process(script: str, env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    """Run a container's start script (`sh -c`) in its own process group, output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(["sh", "-c", script], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(cwd), env={**os.environ, **env},
                                start_new_session=True)


def stop_group(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM to the start script (it forwards TERM to its JVM), then SIGKILL to its whole group."""
    terminate(proc.pid, timeout, popen=proc)
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass


def broker_registered(namesrv_addr: str, cluster: str, broker_name: str) -> bool:
    """Whether the name server lists `broker_name` in `cluster` (brokers register 10 s after start)."""
    try:
        with Connection(namesrv_addr, None, None, timeout=2) as conn:
            answer = conn.request("broker cluster info", GET_BROKER_CLUSTER_INFO)
    except (RemotingError, RemotingUnreachable):
        return False
    clusters = parse_json(answer.body).get("clusterAddrTable") or {}
    return broker_name in (clusters.get(cluster) or [])


def tcp_open(port: int) -> bool:
    return _tcp_open(port)


def mqadmin(artifacts: BuildResult, home: Path, args: list[str], access_key: str,
            secret_key: str, java: str | None = None,
            timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run upstream ``mqadmin`` (one JVM per call) with the given credentials.

    mqadmin reads its credentials from ``$ROCKETMQ_HOME/conf/tools.yml``; ``home`` gets one."""
    conf = home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    tools_yml = conf / "tools.yml"
    tools_yml.write_text(f"accessKey: {json.dumps(access_key)}\nsecretKey: {json.dumps(secret_key)}\n")
    os.chmod(tools_yml, 0o600)
    cmd = java_command(java or shutil.which("java") or "java", "128m", home,
                       "rmq.tools.logback.xml", artifacts.java_classpath(), MQADMIN_MAIN, args)
    env = dict(os.environ, ROCKETMQ_HOME=str(home))
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=str(home))


# --------------------------------------------------------------------------- cli


def _cmd_build(args: argparse.Namespace) -> int:
    t0 = time.monotonic()
    try:
        result = build(force=args.force, quiet=not args.verbose)
    except RocketMQBuildError as e:
        print(f"rocketmq-server: build failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"version": ROCKETMQ_VERSION, "built": result.built,
                      "classpath_entries": len(result.entries),
                      "seconds": round(time.monotonic() - t0, 1)}))
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    state = data_dir / STATE_FILE
    if state.is_file():
        old = json.loads(state.read_text())
        running = [p for p in (old.get("proxy_pid"), old.get("namesrv_pid")) if p and alive(p)]
        if running:
            print(f"already running: pids {running} (see {state})", file=sys.stderr)
            return 1
    srv = RocketMQServer(base_port=args.base_port, data_dir=data_dir,
                         admin_password=args.password, startup_timeout=args.timeout,
                         keep_data=True)
    try:
        srv.start()
    except (RocketMQStartError, RocketMQBuildError) as e:
        print(str(e), file=sys.stderr)
        return 1
    info = srv.info()
    state.write_text(json.dumps(info, indent=2) + "\n")
    os.chmod(state, 0o600)
    srv.proxy = srv.namesrv = None  # leave them running: `stop` ends them
    print(json.dumps(info, indent=2))
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    state = Path(args.data_dir).resolve() / STATE_FILE
    if not state.is_file():
        print(f"no {state}: nothing to stop", file=sys.stderr)
        return 1
    info = json.loads(state.read_text())
    stopped = []
    for key in ("proxy_pid", "namesrv_pid"):
        pid = info.get(key)
        if pid and alive(pid):
            terminate(pid, args.timeout)
            stopped.append(pid)
    print(json.dumps({"stopped": stopped}))
    state.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="resolve RocketMQ from Maven Central (cached)")
    b.add_argument("--force", action="store_true")
    b.add_argument("--verbose", action="store_true")
    s = sub.add_parser("start", help="start name server and broker+proxy in the background")
    s.add_argument("--base-port", type=int, default=None, help="default: a free one")
    s.add_argument("--data-dir", required=True)
    s.add_argument("--password", default=None, help="admin password (default: generated)")
    s.add_argument("--timeout", type=float, default=180.0)
    t = sub.add_parser("stop", help="stop the processes started with this data dir")
    t.add_argument("--data-dir", required=True)
    t.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args(argv)
    return {"build": _cmd_build, "start": _cmd_start, "stop": _cmd_stop}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
