#!/usr/bin/env python3
"""A local Kubernetes control plane on 127.0.0.1, built from the package registries.

etcd, kube-apiserver, kube-controller-manager (with its host-path volume provisioner),
kube-scheduler and kwok fake nodes: a real API server that validates, admits and stores
every object, and controllers that turn Deployments, StatefulSets and Jobs into pods,
which kwok marks Running/Ready without running containers. What a real cluster would
already run for the stack is installed as cluster add-ons: a default StorageClass and
the CRDs of the Prometheus operator and of agent-sandbox (their controllers are not).

Everything is cached outside the repo, under
``${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}/local-plane/``:
``bin/`` (binaries, stamped), ``build/`` (wrapper Go modules), ``addons/`` (CRD files)
and ``<instance>/`` (certificates, data, logs, PIDs and the kubeconfig of one plane).
Go's own module and build caches are used as they are configured.

Stdlib only. CLI::

    python scripts/local_plane.py build            # cold ~10-20 min on 2 cores, warm < 1 s
    python scripts/local_plane.py start [--instance dev] [--port 16443] [--fresh]
    python scripts/local_plane.py stop  [--instance dev]
    python scripts/local_plane.py status [--instance dev]

Python API (tests)::

    with LocalPlane(instance_dir, apiserver_port=free_port()) as plane:
        plane.kubeconfig, plane.kubectl("get", "nodes")

Exit codes: 0 ok; 3 a part could not be had (named, with the registry's answer); 1 the
plane did not start (the failing component and its log tail are printed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from processes import alive, tail

K8S_VERSION = "1.34.4"
ETCD_VERSION = "3.6.16"
KWOK_VERSION = "0.8.0"
AGENT_SANDBOX_MODULE = "sigs.k8s.io/agent-sandbox@v0.5.6"
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator@v0.85.0"
BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd", "kwok")
DEFAULT_INSTANCE = "dev"
DEFAULT_APISERVER_PORT = 16443
HOST = "127.0.0.1"
PROGRESS_EVERY_SECONDS = 30


class PartUnavailable(RuntimeError):
    """A part of the plane could not be obtained or built; the message names it and the registry's answer."""


class PlaneStartError(RuntimeError):
    """A component did not come up; the message names it and carries its log tail."""


def cache_root() -> Path:
    return Path(os.environ.get("AGENT_RUNTIME_CACHE") or Path.home() / ".cache" / "agent-runtime") / "local-plane"


def instance_dir(instance: str = DEFAULT_INSTANCE) -> Path:
    return cache_root() / instance


def log(message: str) -> None:
    print(f"local-plane: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- build


@dataclass(frozen=True)
class Toolchain:
    """Where the build puts things; Go's module and build caches stay where Go keeps them."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def addons(self) -> Path:
        return self.root / "addons"

    @property
    def logs(self) -> Path:
        return self.root / "build-logs"

    @property
    def stamp(self) -> Path:
        return self.bin / ".versions.json"

    @staticmethod
    def wanted() -> dict:
        return {"kubernetes": K8S_VERSION, "etcd": ETCD_VERSION, "kwok": KWOK_VERSION,
                "addons": [AGENT_SANDBOX_MODULE, PROMETHEUS_OPERATOR_MODULE]}

    def is_built(self) -> bool:
        try:
            stamped = json.loads(self.stamp.read_text())
        except (OSError, ValueError):
            return False
        return (
            stamped == self.wanted()
            and all(os.access(self.bin / b, os.X_OK) for b in BINARIES)
            and (self.addons / "kwok-stages.yaml").is_file()
            and any(self.addons.glob("crds/*.yaml"))
        )


def _go_env() -> dict:
    env = dict(os.environ)
    env.update(GOFLAGS="-mod=mod", CGO_ENABLED="0", GOTOOLCHAIN="local")
    return env


def _registry_answer(text: str) -> str:
    """The lines of Go's output that carry the module proxy's answer (403, not found, ...)."""
    keep = [ln.strip() for ln in text.splitlines() if any(s in ln for s in ("Forbidden", "not found", "404", "410", "server response", "dial tcp", "invalid version", "unknown revision"))]
    return "; ".join(keep[:4]) or (text.strip().splitlines() or ["(no output)"])[-1]


def _run_step(name: str, cmd: list[str], cwd: Path, logs: Path, env: Optional[dict] = None) -> str:
    """Run one build step, logging to a file and printing progress while it runs; return its stdout."""
    logs.mkdir(parents=True, exist_ok=True)
    log_file = logs / f"{name}.log"
    started = time.monotonic()
    done = threading.Event()

    def ticker() -> None:
        while not done.wait(PROGRESS_EVERY_SECONDS):
            log(f"{name}: still running ({time.monotonic() - started:.0f} s; log {log_file})")

    thread = threading.Thread(target=ticker, daemon=True)
    thread.start()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env or _go_env(), capture_output=True, text=True)
    finally:
        done.set()
    log_file.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    (logs / f"{name}.seconds").write_text(f"{time.monotonic() - started:.0f}\n")
    if proc.returncode != 0:
        raise PartUnavailable(f"{name} failed after {time.monotonic() - started:.0f} s: {_registry_answer(proc.stderr)} (log: {log_file})")
    log(f"{name}: done in {time.monotonic() - started:.0f} s")
    return proc.stdout


def _download(module_at_version: str, tools: Toolchain) -> dict:
    """`go mod download -json`; raises PartUnavailable with the proxy's answer."""
    work = tools.build / "download"
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "go.mod").exists():
        (work / "go.mod").write_text("module localplane.download\n\ngo 1.22\n")
    proc = subprocess.run(["go", "mod", "download", "-json", module_at_version], cwd=work, env=_go_env(), capture_output=True, text=True)
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = {}
    if proc.returncode != 0 or info.get("Error") or not info.get("Dir"):
        raise PartUnavailable(f"Go module {module_at_version}: {info.get('Error') or _registry_answer(proc.stderr)}")
    return info


def _write_module(directory: Path, go_mod: str, imports: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "go.mod").write_text(go_mod)
    body = "".join(f'\t_ "{i}"\n' for i in imports)
    (directory / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{body})\n")


def _kubernetes_wrapper(tools: Toolchain) -> Path:
    """k8s.io/kubernetes is not meant as a dependency: its staging modules are replaced by their published versions."""
    info = _download(f"k8s.io/kubernetes@v{K8S_VERSION}", tools)
    upstream = Path(info["GoMod"]).read_text().splitlines()
    staging_minor = "0." + K8S_VERSION.split(".", 1)[1]
    replaces = [ln.split("=>")[0].strip() for ln in upstream if "=> ./staging/" in ln]
    if not replaces:
        raise PartUnavailable(f"k8s.io/kubernetes@v{K8S_VERSION}: its go.mod lists no staging modules to restate")
    go_line = next((ln for ln in upstream if ln.startswith("go ")), "go 1.24")
    godebug = [ln for ln in upstream if ln.startswith("godebug")]
    lines = ["module localplane.kubernetes", "", go_line, *godebug, "", f"require k8s.io/kubernetes v{K8S_VERSION}", "", "replace ("]
    lines += [f"\t{mod} => {mod} v{staging_minor}" for mod in replaces]
    lines.append(")")
    wrapper = tools.build / "kubernetes"
    _write_module(wrapper, "\n".join(lines) + "\n", [f"k8s.io/kubernetes/cmd/{c}" for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")])
    return wrapper


def _version_ldflags() -> str:
    minor = K8S_VERSION.split(".")[1]
    pkg = "k8s.io/component-base/version"
    flags = [f"-X {pkg}.gitVersion=v{K8S_VERSION}", f"-X {pkg}.gitMajor=1", f"-X {pkg}.gitMinor={minor}", f"-X {pkg}.gitTreeState=clean"]
    # kubectl reports its version through client-go's copy of the same variables
    flags += [f.replace(pkg, "k8s.io/client-go/pkg/version") for f in flags]
    return "-s -w " + " ".join(flags)


def build(force: bool = False) -> Toolchain:
    """Build (or find cached) every binary and add-on; raise PartUnavailable naming what failed."""
    tools = Toolchain(cache_root())
    if tools.is_built() and not force:
        return tools
    if shutil.which("go") is None:
        raise PartUnavailable("go is not installed: the plane is built from the Go module proxy")
    started = time.monotonic()
    tools.bin.mkdir(parents=True, exist_ok=True)
    log(f"building the local control plane (Kubernetes v{K8S_VERSION}, etcd v{ETCD_VERSION}, kwok v{KWOK_VERSION}); a cold build takes 10-20 min on 2 cores")

    wrapper = _kubernetes_wrapper(tools)
    _run_step("kubernetes-go-mod-tidy", ["go", "mod", "tidy"], wrapper, tools.logs)
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"):
        _run_step(f"build-{component}", ["go", "build", "-trimpath", "-ldflags", _version_ldflags(), "-o", str(tools.bin / component), f"k8s.io/kubernetes/cmd/{component}"], wrapper, tools.logs)

    # etcd's server module carries replace directives of its own: build it from a wrapper, not `go install`
    etcd = tools.build / "etcd"
    _write_module(etcd, f"module localplane.etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v{ETCD_VERSION}\n", ["go.etcd.io/etcd/server/v3"])
    _run_step("etcd-go-mod-tidy", ["go", "mod", "tidy"], etcd, tools.logs)
    _run_step("build-etcd", ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(tools.bin / "etcd"), "go.etcd.io/etcd/server/v3"], etcd, tools.logs)

    env = _go_env()
    env["GOBIN"] = str(tools.bin)
    env["GOFLAGS"] = ""
    _run_step("build-kwok", ["go", "install", "-trimpath", "-ldflags", "-s -w", f"sigs.k8s.io/kwok/cmd/kwok@v{KWOK_VERSION}"], tools.build, tools.logs, env=env)

    _collect_addons(tools)
    tools.stamp.write_text(json.dumps(tools.wanted()))
    log(f"built in {time.monotonic() - started:.0f} s: {tools.bin}")
    return tools


def _collect_addons(tools: Toolchain) -> None:
    """kwok's fast pod/node stages, and the CRDs a real cluster would have for this stack."""
    kwok = Path(_download(f"sigs.k8s.io/kwok@v{KWOK_VERSION}", tools)["Dir"]) / "kustomize" / "stage"
    stages = ["node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
              "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"]
    tools.addons.mkdir(parents=True, exist_ok=True)
    (tools.addons / "kwok-stages.yaml").write_text("".join("---\n" + (kwok / s).read_text() for s in stages))
    crds = tools.addons / "crds"
    shutil.rmtree(crds, ignore_errors=True)
    crds.mkdir()
    sources = {
        # the Sandbox/SandboxTemplate/SandboxWarmPool/SandboxClaim CRDs of agent-sandbox
        AGENT_SANDBOX_MODULE: ("k8s/crds", lambda n: n.endswith(".yaml")),
        # PodMonitor and ServiceMonitor: what the Higress chart and the stack's monitors create
        PROMETHEUS_OPERATOR_MODULE: ("example/prometheus-operator-crd", lambda n: n.endswith(("podmonitors.yaml", "servicemonitors.yaml"))),
    }
    for module, (sub, wanted) in sources.items():
        directory = Path(_download(module, tools)["Dir"]) / sub
        files = sorted(p for p in directory.iterdir() if wanted(p.name))
        if not files:
            raise PartUnavailable(f"Go module {module}: no CRD files under {sub}")
        for path in files:
            shutil.copyfile(path, crds / f"{module.split('@')[0].split('/')[-1]}-{path.name}")


# --------------------------------------------------------------------------- run


def free_port(low: int = 20000, high: int = 32000) -> int:
    """A free loopback port below Linux's ephemeral range (32768+), so it is still free when a
    stopped plane starts again on it (outgoing connections take ephemeral ports at any time)."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(low, high)
        if not _busy_ports(port):
            return port
    raise PlaneStartError(f"no free port between {low} and {high} on {HOST}")


def _busy_ports(*ports: int) -> list[int]:
    """The given loopback ports something already listens on (or holds)."""
    busy = []
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                busy.append(port)
    return busy


@dataclass
class LocalPlane:
    """One plane: its own certificates, etcd data, logs, PIDs and kubeconfig under `home`."""

    home: Path
    apiserver_port: int = DEFAULT_APISERVER_PORT
    nodes: int = 1
    tools: Optional[Toolchain] = None
    pids: dict = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.home / "pki"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def server(self) -> str:
        return f"https://{HOST}:{self.apiserver_port}"

    # ---- lifecycle

    def __enter__(self) -> "LocalPlane":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def running(self) -> bool:
        """All five components are ours and alive, and the API server is ready."""
        status = self.status()
        if len(status) != 5 or not all(s["running"] for s in status.values()):
            return False
        with contextlib.suppress(Exception):
            return self.kubeconfig.exists() and self._ready()
        return False

    def start(self, fresh: bool = False) -> "LocalPlane":
        """Start the plane; one that is already running is kept, and its etcd data survives a restart unless `fresh`."""
        self.tools = self.tools or build()
        if not fresh and self.running():
            log(f"already running: KUBECONFIG={self.kubeconfig}")
            return self
        self.stop()  # whatever is left of this instance (a killed run, a reboot)
        etcd_port, peer_port, etcd_metrics, kwok_port = self._side_ports(fresh)
        busy = _busy_ports(self.apiserver_port, etcd_port, peer_port)
        if busy:
            raise PlaneStartError(f"port {HOST}:{busy[0]} is taken: another plane or program listens there (stop it, or pick --port)")
        if fresh:
            shutil.rmtree(self.home / "data", ignore_errors=True)
        for d in (self.home / "data", self.logs, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._certificates()
        started = time.monotonic()
        data = self.home / "data"
        self._spawn("etcd", [
            "--name", "plane", "--data-dir", str(data / "etcd"),
            "--listen-client-urls", f"http://{HOST}:{etcd_port}", "--advertise-client-urls", f"http://{HOST}:{etcd_port}",
            "--listen-peer-urls", f"http://{HOST}:{peer_port}", "--initial-advertise-peer-urls", f"http://{HOST}:{peer_port}",
            "--initial-cluster", f"plane=http://{HOST}:{peer_port}", "--listen-metrics-urls", f"http://{HOST}:{etcd_metrics}",
            "--unsafe-no-fsync", "--quota-backend-bytes", str(4 * 1024**3),
        ])
        self._wait("etcd", lambda: _http_ok(f"http://{HOST}:{etcd_port}/health"), 30)
        pki = self.pki
        self._spawn("kube-apiserver", [
            f"--etcd-servers=http://{HOST}:{etcd_port}", f"--bind-address={HOST}", f"--advertise-address={HOST}",
            f"--secure-port={self.apiserver_port}", f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}", "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--profiling=false", f"--cert-dir={data / 'apiserver-certs'}",
            # 127.0.0.1 cannot be the endpoint of the in-cluster `kubernetes` Service
            "--endpoint-reconciler-type=none",
        ])
        self._wait("kube-apiserver", self._ready, 90)
        kubeconfig = f"--kubeconfig={self.kubeconfig}"
        self._spawn("kube-controller-manager", [
            kubeconfig, f"--authentication-kubeconfig={self.kubeconfig}", f"--authorization-kubeconfig={self.kubeconfig}",
            f"--bind-address={HOST}", "--secure-port=0", "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
            "--use-service-account-credentials=false", "--controllers=*",
            # a real provisioner for PersistentVolumeClaims (directories under /tmp/hostpath_pv, deleted with the claim)
            "--enable-hostpath-provisioner=true",
        ])
        self._spawn("kube-scheduler", [
            kubeconfig, f"--authentication-kubeconfig={self.kubeconfig}", f"--authorization-kubeconfig={self.kubeconfig}",
            f"--bind-address={HOST}", "--secure-port=0", "--leader-elect=false",
        ])
        self._spawn("kwok", [
            kubeconfig, f"--config={self.tools.addons / 'kwok-stages.yaml'}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--manage-nodes-with-label-selector=",
            "--cidr=10.244.0.1/16", f"--node-ip={HOST}", "--node-lease-duration-seconds=40",
            f"--server-address={HOST}:{kwok_port}",
        ])
        self._apply(self._cluster_objects())
        self._apply_files(sorted((self.tools.addons / "crds").glob("*.yaml")))
        self._wait("kube-controller-manager (default ServiceAccount)", lambda: self._exists("serviceaccount", "default", "default"), 60)
        self._wait("kwok (node Ready)", lambda: self._node_ready("kwok-node-0"), 60)
        self._wait("add-on CRDs established", self._crds_established, 60)
        log(f"plane ready in {time.monotonic() - started:.1f} s: KUBECONFIG={self.kubeconfig}")
        return self

    def _side_ports(self, fresh: bool) -> tuple[int, int, int, int]:
        """etcd client/peer/metrics and kwok ports: chosen once per plane (etcd's data remembers its peer URL)."""
        path = self.home / "ports.json"
        if not fresh and path.exists():
            with contextlib.suppress(ValueError, TypeError):
                ports = json.loads(path.read_text())
                return ports["etcd"], ports["peer"], ports["metrics"], ports["kwok"]
        ports = {"etcd": free_port(), "peer": free_port(), "metrics": free_port(), "kwok": free_port()}
        self.home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(ports))
        return ports["etcd"], ports["peer"], ports["metrics"], ports["kwok"]

    def stop(self) -> None:
        """Stop exactly the processes this plane started (by the PIDs in its run dir)."""
        running = []
        for component in ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"):
            pid_file = self.run_dir / f"{component}.pid"
            if not pid_file.exists():
                continue
            pid = int(pid_file.read_text().split()[0])
            if _is_process(pid, component):
                os.kill(pid, signal.SIGTERM)
                running.append((component, pid))
            pid_file.unlink(missing_ok=True)
        deadline = time.monotonic() + 10
        while running and time.monotonic() < deadline:
            running = [(c, p) for c, p in running if alive(p)]
            time.sleep(0.1)
        for component, pid in running:
            log(f"{component} ({pid}) ignored SIGTERM for 10 s: killed")
            os.kill(pid, signal.SIGKILL)
        self.pids.clear()

    def status(self) -> dict:
        out = {}
        for pid_file in sorted(self.run_dir.glob("*.pid")):
            pid = int(pid_file.read_text().split()[0])
            out[pid_file.stem] = {"pid": pid, "running": _is_process(pid, pid_file.stem)}
        return out

    # ---- helpers

    def kubectl(self, *args: str, input: Optional[str] = None, check: bool = True) -> subprocess.CompletedProcess:
        assert self.tools is not None
        proc = subprocess.run([str(self.tools.bin / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args], input=input, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise PlaneStartError(f"kubectl {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def _spawn(self, component: str, args: list[str]) -> None:
        assert self.tools is not None
        out = open(self.logs / f"{component}.log", "w")
        proc = subprocess.Popen([str(self.tools.bin / component), *args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        (self.run_dir / f"{component}.pid").write_text(f"{proc.pid} {component}\n")
        self.pids[component] = proc

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [c for c, p in self.pids.items() if p.poll() is not None]
            if dead:
                raise PlaneStartError(f"{dead[0]} exited while waiting for {what}:\n{tail(self.logs / f'{dead[0]}.log', 20)}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.2)
        component = what.split()[0]
        raise PlaneStartError(f"{what}: not ready after {timeout:.0f} s\n{tail(self.logs / f'{component}.log', 20)}")

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        return ctx

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"{self.server}/readyz", context=self._ssl(), timeout=2) as resp:
            return resp.read() == b"ok"

    def _exists(self, kind: str, namespace: str, name: str) -> bool:
        return self.kubectl("get", kind, name, "-n", namespace, check=False).returncode == 0

    def _node_ready(self, name: str) -> bool:
        proc = self.kubectl("get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}", check=False)
        return proc.stdout.strip() == "True"

    def _crds_established(self) -> bool:
        proc = self.kubectl("get", "crd", "-o", "json", check=False)
        items = json.loads(proc.stdout or "{}").get("items", [])
        return bool(items) and all(
            any(c["type"] == "Established" and c["status"] == "True" for c in (i.get("status") or {}).get("conditions", [])) for i in items
        )

    def _apply(self, manifest: str) -> None:
        self._wait_for_api_resources()
        self.kubectl("apply", "--server-side", "--field-manager=local-plane", "-f", "-", input=manifest)

    def _apply_files(self, files: list[Path]) -> None:
        for path in files:
            self.kubectl("apply", "--server-side", "--field-manager=local-plane", "-f", str(path))

    def _wait_for_api_resources(self) -> None:
        self._wait("kube-apiserver (storage API)", lambda: self.kubectl("api-resources", "--api-group=storage.k8s.io", check=False).returncode == 0, 30)

    def _cluster_objects(self) -> str:
        nodes = "".join(
            f"""---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-{n}
  annotations: {{node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}}
  labels: {{kubernetes.io/hostname: kwok-node-{n}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, topology.kubernetes.io/zone: zone-{n % 3}, type: kwok}}
status:
  allocatable: {{cpu: "64", memory: 512Gi, pods: "2000", ephemeral-storage: 1Ti}}
  capacity: {{cpu: "64", memory: 512Gi, pods: "2000", ephemeral-storage: 1Ti}}
"""
            for n in range(self.nodes)
        )
        return nodes + """---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""

    def _certificates(self) -> None:
        """A throwaway CA, the API server's certificate for 127.0.0.1, an admin client certificate, the SA key pair."""
        pki = self.pki
        if (pki / "admin.crt").exists() and self.kubeconfig.exists() and f":{self.apiserver_port}\n" in self.kubeconfig.read_text():
            return
        shutil.rmtree(pki, ignore_errors=True)
        pki.mkdir(parents=True)
        if shutil.which("openssl") is None:
            raise PlaneStartError("openssl is not installed: it makes the plane's throwaway certificates")

        def openssl(*args: str) -> None:
            proc = subprocess.run(["openssl", *args], cwd=pki, capture_output=True, text=True)
            if proc.returncode != 0:
                raise PlaneStartError(f"openssl {args[0]}: {proc.stderr.strip()}")

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", "/CN=agent-runtime-local-plane-ca")
        (pki / "apiserver.ext").write_text(
            "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
            "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n"
        )
        (pki / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
        for name, subject, ext in (("apiserver", "/CN=kube-apiserver", "apiserver.ext"), ("admin", "/O=system:masters/CN=local-plane-admin", "client.ext")):
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
            openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", f"{name}.crt", "-days", "3650", "-extfile", ext)
        openssl("genrsa", "-out", "sa.key", "2048")
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        for key in pki.glob("*.key"):
            key.chmod(0o600)
        self.kubeconfig.write_text(
            f"""apiVersion: v1
kind: Config
clusters:
- name: local-plane
  cluster:
    server: {self.server}
    certificate-authority: {pki / 'ca.crt'}
users:
- name: admin
  user:
    client-certificate: {pki / 'admin.crt'}
    client-key: {pki / 'admin.key'}
contexts:
- name: local-plane
  context: {{cluster: local-plane, user: admin}}
current-context: local-plane
"""
        )
        self.kubeconfig.chmod(0o600)


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return resp.status == 200


def _is_process(pid: int, component: str) -> bool:
    """True when `pid` is alive and is the component we started (never signal a recycled PID)."""
    if not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return True
    return Path(cmdline).name == component


# --------------------------------------------------------------------------- CLI


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build (or find cached) binaries and add-ons")
    b.add_argument("--force", action="store_true")
    for name in ("start", "stop", "status"):
        p = sub.add_parser(name)
        p.add_argument("--instance", default=DEFAULT_INSTANCE, help="plane name: its files live in the cache under this name")
        if name == "start":
            p.add_argument("--port", type=int, default=DEFAULT_APISERVER_PORT, help="kube-apiserver port on 127.0.0.1")
            p.add_argument("--nodes", type=int, default=1)
            p.add_argument("--fresh", action="store_true", help="wipe the plane's etcd data first (its Pulumi stacks must be forgotten too)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            tools = build(force=args.force)
            print(tools.bin)
            return 0
        plane = LocalPlane(instance_dir(args.instance), apiserver_port=getattr(args, "port", DEFAULT_APISERVER_PORT), nodes=getattr(args, "nodes", 1))
        if args.command == "start":
            plane.start(fresh=args.fresh)
            print(plane.kubeconfig)
        elif args.command == "stop":
            plane.stop()
            log(f"stopped instance {args.instance!r}")
        else:
            print(json.dumps(plane.status(), indent=1))
        return 0
    except PartUnavailable as exc:
        log(f"NOT AVAILABLE: {exc}")
        return 3
    except PlaneStartError as exc:
        log(f"FAILED: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
