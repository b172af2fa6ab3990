"""Run the program under Pulumi's mock monitor and record everything it registers - no engine, no cluster.

The recorder sits at the resource-monitor level so it sees each registration as the
engine would: type, name, parent, provider, dependencies, wire-form inputs and which
inputs are secret. Used by `scripts/check.py` (a team's own CI), `scripts/render_offline.py`
and the tests (tests/harness.py adds the tests' fixtures).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import resource_pb2

REPO = Path(__file__).resolve().parent.parent
PROJECT = "agent-runtime"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_MARK = "[secret]"


class Registered:
    """One registration as the monitor received it.

    The wire-form inputs are converted to plain values on first use, not on
    receipt: most runs (the benchmark, most tests) read few of them.
    """

    def __init__(self, request, urn: str):
        self.urn: str = urn
        self.typ: str = request.type
        self.name: str = request.name
        self.parent: str = request.parent
        self.provider: str = request.provider
        self.custom: bool = request.custom
        self.remote: bool = request.remote
        self.dependencies: list[str] = list(request.dependencies)
        self._object = request.object
        self._wire: Optional[dict] = None
        self._inputs: Optional[dict] = None

    @property
    def wire(self) -> dict:
        if self._wire is None:
            self._wire = json_format.MessageToDict(self._object)
        return self._wire

    @property
    def inputs(self) -> dict:
        if self._inputs is None:
            self._inputs = _unwrap(self.wire)
        return self._inputs

    @functools.cached_property
    def secret_paths(self) -> set[str]:
        return _secret_paths(self.wire)

    @property
    def k8s_name(self) -> Optional[str]:
        return (self.inputs.get("metadata") or {}).get("name")

    @property
    def k8s_namespace(self) -> Optional[str]:
        return (self.inputs.get("metadata") or {}).get("namespace")


def _secret_paths(value: Any, path: str = "") -> set[str]:
    """Paths (dotted) of every secret-wrapped value in a wire-form struct."""
    found: set[str] = set()
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            found.add(path)
            return found
        for key, item in value.items():
            found |= _secret_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found |= _secret_paths(item, f"{path}[{i}]")
    return found


class PlatformMocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs; give random resources deterministic fake results."""

    @staticmethod
    def echo_defaults(typ: str) -> Optional[dict]:
        """For types whose outputs are their inputs plus these defaults: the defaults; else None.

        Lets the monitor answer without the deserialize -> new_resource -> serialize round trip.
        """
        if typ == "kubernetes:core/v1:Service":
            return {"status": {}}
        return {} if typ.startswith("kubernetes:") else None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = f"mock-password-{args.name}"
        elif args.typ == "random:index/randomBytes:RandomBytes":
            # 32 bytes of 0x01, base64: a valid HS256 key shape
            outputs["base64"] = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
            outputs["hex"] = "01" * int(args.inputs.get("length", 32))
        else:
            for key, value in (self.echo_defaults(args.typ) or {}).items():
                outputs.setdefault(key, value)
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, recording every registration.

    For custom resources whose mock outputs are their inputs (plus defaults), the
    wire-form inputs are echoed back as they came: the same answer the SDK's
    deserialize -> new_resource -> serialize round trip gives, without its cost.
    """

    def __init__(self, mocks: PlatformMocks, direct_echo: bool = True):
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.direct_echo = direct_echo

    def RegisterResource(self, request):
        direct = self.direct_echo and request.custom and not request.remote
        defaults = self.mocks.echo_defaults(request.type) if direct else None
        if defaults is not None:
            urn = self.make_urn(request.parent, request.type, request.name)
            outputs = struct_pb2.Struct()
            outputs.CopyFrom(request.object)
            for key, value in defaults.items():
                if key not in outputs.fields:
                    outputs[key] = value
            response = resource_pb2.RegisterResourceResponse(urn=urn, id=f"{request.name}-id", object=outputs)
        else:
            response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(Registered(request, response.urn))
        return response


def _unwrap(value: Any) -> Any:
    """Wire form to plain values: secrets unwrapped (the recorder keeps their paths separately)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


@dataclass
class ProgramRun:
    stack: str
    resources: list[Registered]
    outputs: dict

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: Optional[str] = None, namespace: Optional[str] = None) -> Registered:
        found = [
            r
            for r in self.of_type(typ)
            if (name is None or r.k8s_name == name) and (namespace is None or r.k8s_namespace == namespace)
        ]
        assert len(found) == 1, f"expected one {typ} named {name!r} in {namespace!r}, found {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def custom_resources(self, kind: str) -> list[Registered]:
        """Custom resources register under their own token, kubernetes:<group>/<version>:<Kind>."""
        return [r for r in self.resources if r.typ.startswith("kubernetes:") and r.typ.endswith(f":{kind}") and r.inputs.get("kind") == kind]


def wire_config(config: dict[str, Any]) -> dict[str, str]:
    """Config values as the engine hands them to a program: strings, JSON for structures."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_program(
    stack: str,
    config: dict[str, Any],
    secret_keys: list[str],
    project_dir: Path,
    program: Path = REPO / "__main__.py",
    stack_file: Optional[Path] = None,
    direct_echo: bool = True,
    monitor_class: Optional[type] = None,
) -> ProgramRun:
    """Run `program` for `stack` under mocks with `config` (full keys), from `project_dir`.

    `stack_file` is where stack-setting errors point (default: the project's Pulumi.<stack>.yaml).
    `direct_echo=False` sends every registration through the SDK's own mock round trip.
    """
    # the program tunes the garbage collector for its own process; this one may run many programs
    gc_thresholds = gc.get_threshold()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.reset_options(project=PROJECT, stack=stack)
    mocks = PlatformMocks()
    monitor = (monitor_class or RecordingMonitor)(mocks, direct_echo=direct_echo)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(wire_config(config), secret_keys=secret_keys)

    outputs: dict = {}
    original_export = pulumi.export

    def capture_export(name: str, value: Any) -> None:
        outputs[name] = value
        original_export(name, value)

    pulumi.export = capture_export
    cwd = os.getcwd()
    os.chdir(project_dir)  # the engine runs a program from its project directory
    from models import settings as config_module

    original_stack_file = config_module.stack_file_path
    if stack_file is not None:
        config_module.stack_file_path = lambda _project_dir: stack_file
    try:
        runpy.run_path(str(program), run_name="__main__")
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
        resolved = {k: _resolve(v, loop) for k, v in outputs.items()}
    finally:
        config_module.stack_file_path = original_stack_file
        os.chdir(cwd)
        pulumi.export = original_export
        # the chart transforms start the SDK's callback server on this loop: stop it with the run
        loop.run_until_complete(pulumi.runtime.settings._shutdown_callbacks())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)
        gc.set_threshold(*gc_thresholds)
    return ProgramRun(stack=stack, resources=monitor.registered, outputs=resolved)


def _resolve(value: Any, loop: asyncio.AbstractEventLoop) -> Any:
    if isinstance(value, pulumi.Output):
        return loop.run_until_complete(value.future())
    if isinstance(value, dict):
        return {k: _resolve(v, loop) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, loop) for v in value]
    return value
