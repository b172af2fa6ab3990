"""Drive our providers through Pulumi's real dynamic-provider host over gRPC.

This is what the engine does: start `python -u -m pulumi.dynamic`, read the port
it prints, Configure it with the stack config, then send Check/Diff/Create/Read/
Update/Delete with the serialized provider in `__provider`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
PROVIDER_KEY = "__provider"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry_config(server, password=None, addr=None, **registry) -> dict:
    """The stack config the registry providers are configured with, pointing at `server`."""
    block = {
        "enabled": True,
        "serverAddr": addr or f"http://{server.server_addr}",
        "username": server.username,
        "retryTotalSeconds": registry.pop("retryTotalSeconds", 5),
        "readyTimeoutSeconds": registry.pop("readyTimeoutSeconds", 20),
        **registry,
    }
    return {"agent-runtime:registry": json.dumps(block), "agent-runtime:registryPassword": password or server.password}


class ProviderCallError(Exception):
    """The host aborted the call; `details` holds the provider's error (with traceback)."""

    def __init__(self, details: str):
        super().__init__(details)
        self.details = details


def _struct(value: dict) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(value)))
    return s


def _plain(s: struct_pb2.Struct) -> dict:
    return json_format.MessageToDict(s)


class DynamicProviderHost:
    def __init__(self, config: dict[str, Any]):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
        env["PULUMI_PROJECT"] = "agent-runtime"
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline().decode().strip())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        wire = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
        self.stub.Configure(provider_pb2.ConfigureRequest(args=_struct(wire), variables=wire))

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> "DynamicProviderHost":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ calls

    @staticmethod
    def props(provider, inputs: dict) -> dict:
        return {**inputs, PROVIDER_KEY: serialize_provider(provider)}

    @staticmethod
    def urn(name: str) -> str:
        return f"urn:pulumi:test::agent-runtime::pulumi-python:dynamic:Resource::{name}"

    def _call(self, method: str, request):
        try:
            return getattr(self.stub, method)(request, timeout=600)
        except grpc.RpcError as exc:
            raise ProviderCallError(exc.details() or str(exc)) from None

    def check(self, name: str, olds: dict, news: dict) -> tuple[dict, list[tuple[str, str]]]:
        resp = self._call("Check", provider_pb2.CheckRequest(urn=self.urn(name), olds=_struct(olds), news=_struct(news)))
        return _plain(resp.inputs), [(f.property, f.reason) for f in resp.failures]

    def diff(self, name: str, id_: str, olds: dict, news: dict) -> provider_pb2.DiffResponse:
        return self._call("Diff", provider_pb2.DiffRequest(id=id_, urn=self.urn(name), olds=_struct(olds), news=_struct(news)))

    def create(self, name: str, props: dict) -> tuple[str, dict]:
        resp = self._call("Create", provider_pb2.CreateRequest(urn=self.urn(name), properties=_struct(props)))
        return resp.id, _plain(resp.properties)

    def read(self, name: str, id_: str, props: dict) -> tuple[str, dict, Optional[dict]]:
        resp = self._call(
            "Read", provider_pb2.ReadRequest(id=id_, urn=self.urn(name), properties=_struct(props), inputs=_struct(props))
        )
        inputs = _plain(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, _plain(resp.properties), inputs

    def update(self, name: str, id_: str, olds: dict, news: dict) -> dict:
        resp = self._call(
            "Update", provider_pb2.UpdateRequest(id=id_, urn=self.urn(name), olds=_struct(olds), news=_struct(news))
        )
        return _plain(resp.properties)

    def delete(self, name: str, id_: str, props: dict) -> None:
        self._call("Delete", provider_pb2.DeleteRequest(id=id_, urn=self.urn(name), properties=_struct(props)))
