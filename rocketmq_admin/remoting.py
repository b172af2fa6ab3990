"""RocketMQ's remoting protocol, the part an admin client needs (stdlib only).

Why speak it directly: it is what ``mqadmin`` and the dashboard speak to the name server and the
broker, it has been stable since 4.x, and a Pulumi dynamic provider written in Python then needs
no JVM and pays milliseconds per call instead of a JVM start (measured in
docs/rocketmq-observed.md).

Frame: ``int32 total length | int32 (serialize type << 24 | header length) | header | body``,
big-endian, with the JSON header ``{code, language, version, opaque, flag, remark, extFields}``.
ACL 2.0 authenticates a remoting request by ``extFields.AccessKey`` and ``extFields.Signature``:
base64(HMAC-SHA1(secret, values of every other extField sorted by key, concatenated, + body)) -
the same signature ``AclClientRPCHook`` computes for the Java tools.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

# The protocol version we announce: RocketMQ 5.3.3 (MQVersion.Version.V5_3_3.ordinal()).
# Servers use it only to keep compatibility with very old clients.
PROTOCOL_VERSION = 479
RESPONSE_FLAG = 0b1
JSON_SERIALIZE = 0
MAX_FRAME = 16 * 1024 * 1024

_opaque = itertools.count(1)
# fastjson writes maps with integer keys unquoted ({0:"127.0.0.1:10911"}): quote them for json.
_BARE_INT_KEY = re.compile(r'([{,])\s*(-?\d+)\s*:')


class RemotingError(RuntimeError):
    """The server answered a request with a non-zero code; the message names both."""

    def __init__(self, addr: str, request: str, code: int, remark: str | None):
        self.addr, self.request, self.code, self.remark = addr, request, code, remark
        super().__init__(f"{request} at {addr}: code {code}: {remark or '(no remark)'}")


class RemotingUnreachable(RuntimeError):
    """No connection (refused, timed out, closed mid-answer): the server is down or elsewhere."""


@dataclass
class Command:
    code: int
    ext_fields: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    remark: str | None = None
    opaque: int = 0
    flag: int = 0

    def header_json(self) -> bytes:
        header: dict[str, Any] = {"code": self.code, "language": "PYTHON",
                                  "version": PROTOCOL_VERSION, "opaque": self.opaque,
                                  "flag": self.flag, "serializeTypeCurrentRPC": "JSON"}
        if self.ext_fields:
            header["extFields"] = self.ext_fields
        if self.remark is not None:
            header["remark"] = self.remark
        return json.dumps(header, separators=(",", ":")).encode()


def sign(ext_fields: dict[str, str], body: bytes, secret_key: str) -> str:
    """ACL signature over the sorted extField values (without Signature) and the body."""
    content = "".join(v for k, v in sorted(ext_fields.items()) if k != "Signature")
    digest = hmac.new(secret_key.encode(), content.encode() + (body or b""), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def encode(cmd: Command) -> bytes:
    header = cmd.header_json()
    length = 4 + len(header) + len(cmd.body)
    return struct.pack(">ii", length, (JSON_SERIALIZE << 24) | len(header)) + header + cmd.body


def decode(frame: bytes) -> Command:
    """``frame`` without the leading total length."""
    (mark,) = struct.unpack(">i", frame[:4])
    header_len = mark & 0xFFFFFF
    if (mark >> 24) & 0xFF != JSON_SERIALIZE:
        raise ValueError("server answered in the ROCKETMQ binary header format; expected JSON")
    header = json.loads(frame[4:4 + header_len])
    return Command(code=header.get("code", -1), ext_fields=header.get("extFields") or {},
                   body=frame[4 + header_len:], remark=header.get("remark"),
                   opaque=header.get("opaque", 0), flag=header.get("flag", 0))


def parse_json(body: bytes) -> Any:
    """A fastjson body as Python data (integer map keys quoted first)."""
    text = body.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_BARE_INT_KEY.sub(r'\1"\2":', text))


def _read_exact(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class Connection:
    """One TCP connection to a name server or broker; requests are sent one at a time."""

    def __init__(self, addr: str, access_key: str | None, secret_key: str | None,
                 timeout: float = 10.0):
        self.addr = addr
        self.access_key = access_key
        self.secret_key = secret_key
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        if self._sock is None:
            host, _, port = self.addr.rpartition(":")
            try:
                self._sock = socket.create_connection((host, int(port)), timeout=self.timeout)
            except OSError as e:
                raise RemotingUnreachable(f"cannot connect to {self.addr}: {e}") from e
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def request(self, name: str, code: int, fields: dict[str, Any] | None = None,
                body: bytes = b"", ok: tuple[int, ...] = (0,)) -> Command:
        """Send request ``code`` (``name`` is for messages) and return the answer.

        Raises RemotingError when the answer's code is not in ``ok``."""
        ext = {k: _field(v) for k, v in (fields or {}).items() if v is not None}
        if self.access_key:
            ext["AccessKey"] = self.access_key
            ext["Signature"] = sign(ext, body, self.secret_key or "")
        cmd = Command(code=code, ext_fields=ext, body=body, opaque=next(_opaque))
        sock = self._connect()
        try:
            sock.sendall(encode(cmd))
            while True:
                (length,) = struct.unpack(">i", _read_exact(sock, 4))
                if not 0 < length <= MAX_FRAME:
                    raise ConnectionError(f"bad frame length {length}")
                answer = decode(_read_exact(sock, length))
                if answer.flag & RESPONSE_FLAG and answer.opaque == cmd.opaque:
                    break
        except (OSError, ConnectionError) as e:
            self.close()
            raise RemotingUnreachable(f"{name} at {self.addr}: {e}") from e
        if answer.code not in ok:
            raise RemotingError(self.addr, name, answer.code, answer.remark)
        return answer

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _field(value: Any) -> str:
    """extFields are strings on the wire; Java booleans are lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
