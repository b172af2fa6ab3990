"""A task's last checkpoint, read back from the agent's compacted checkpoints topic (stdlib only).

An async agent's worker publishes a checkpoint after each step of a long task, keyed by the task
id, to ``<tenant>_<agent>_checkpoints`` (a COMPACTION topic). The gRPC client has no way to read a
message by key, so a worker that receives a redelivered task asks the broker itself: remoting
``QUERY_MESSAGE`` (request code 12) with the topic and the key looks the key up in the broker's
message index and answers with the matching messages in the store's own format (decoded here).
The broker authorizes it as ``Sub`` or ``Get`` on the topic (5.3.3
``DefaultAuthorizationContextBuilder``: either action suffices); the plan grants the owner ``Get``.
QUERY_MESSAGE is served by the broker, not by the proxy (its remoting port has no handler for
code 12): the worker needs the brokers' remoting addresses. Measured facts:
docs/rocketmq-observed.md.
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass, field

from .remoting import Connection, RemotingError, parse_json

QUERY_MESSAGE = 12
GET_BROKER_CLUSTER_INFO = 106
GET_ROUTEINFO_BY_TOPIC = 105
QUERY_NOT_FOUND = 22  # ResponseCode.QUERY_NOT_FOUND: "can not find message, maybe time range not correct"
TOPIC_NOT_EXIST = 17

# MessageDecoder / MessageSysFlag (5.3.3)
MAGIC_V1 = -626843481  # 1-byte topic length
MAGIC_V2 = -626843477  # 2-byte topic length
COMPRESSED_FLAG = 0x1
BORNHOST_V6_FLAG = 0x1 << 4
STOREHOST_V6_FLAG = 0x1 << 5
COMPRESSION_TYPE_MASK = 0x7 << 8
ZLIB = 3  # CompressionType: LZ4 1, ZSTD 2, ZLIB 3
NAME_VALUE_SEP, PROPERTY_SEP = "\x01", "\x02"
KEYS = "KEYS"  # MessageConst.PROPERTY_KEYS, keys separated by a space


class CheckpointError(RuntimeError):
    """The stored messages could not be decoded, or the broker refused the query."""


@dataclass(frozen=True)
class StoredMessage:
    topic: str
    queue_id: int
    queue_offset: int
    commit_log_offset: int
    born_timestamp: int
    store_timestamp: int
    reconsume_times: int
    body: bytes
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.properties.get(KEYS, "").split(" ") if k)


def decode_messages(data: bytes) -> list[StoredMessage]:
    """The messages of a QUERY_MESSAGE (or PULL_MESSAGE) body: stored messages back to back."""
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < 8:
            raise CheckpointError(f"truncated message at byte {pos}")
        (size,) = struct.unpack_from(">i", data, pos)
        if size <= 0 or pos + size > len(data):
            raise CheckpointError(f"bad message size {size} at byte {pos} of {len(data)}")
        out.append(_decode_one(data[pos:pos + size]))
        pos += size
    return out


def _decode_one(buf: bytes) -> StoredMessage:
    try:
        (_size, magic, _crc, queue_id, _flag, queue_offset, phys_offset, sys_flag,
         born_ts) = struct.unpack_from(">iiiiiqqiq", buf, 0)
        if magic not in (MAGIC_V1, MAGIC_V2):
            raise CheckpointError(f"unknown magic code {magic}")
        pos = struct.calcsize(">iiiiiqqiq")
        pos += (16 if sys_flag & BORNHOST_V6_FLAG else 4) + 4  # born host, port
        (store_ts,) = struct.unpack_from(">q", buf, pos)
        pos += 8
        pos += (16 if sys_flag & STOREHOST_V6_FLAG else 4) + 4  # store host, port
        reconsume, _prepared = struct.unpack_from(">iq", buf, pos)
        pos += 12
        (body_len,) = struct.unpack_from(">i", buf, pos)
        pos += 4
        body = buf[pos:pos + max(body_len, 0)]
        if len(body) != max(body_len, 0):
            raise CheckpointError("truncated body")
        pos += max(body_len, 0)
        if sys_flag & COMPRESSED_FLAG:
            kind = (sys_flag & COMPRESSION_TYPE_MASK) >> 8
            if kind not in (0, ZLIB):  # 0: before compression types (zlib)
                raise CheckpointError(f"body compressed with type {kind} (only zlib is decoded)")
            body = zlib.decompress(body)
        if magic == MAGIC_V1:
            topic_len, pos = buf[pos], pos + 1
        else:
            (topic_len,), pos = struct.unpack_from(">h", buf, pos), pos + 2
        topic = buf[pos:pos + topic_len].decode()
        pos += topic_len
        (props_len,) = struct.unpack_from(">h", buf, pos)
        pos += 2
        props = buf[pos:pos + props_len].decode() if props_len > 0 else ""
    except (struct.error, IndexError, UnicodeDecodeError, zlib.error) as e:
        raise CheckpointError(f"cannot decode a stored message: {e}") from e
    return StoredMessage(topic, queue_id, queue_offset, phys_offset, born_ts, store_ts, reconsume,
                         body, _properties(props))


def _properties(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(PROPERTY_SEP):
        name, sep, value = item.partition(NAME_VALUE_SEP)
        if sep:
            out[name] = value
    return out


def query_by_key(conn: Connection, topic: str, key: str, max_num: int = 64,
                 begin_ms: int = 0, end_ms: int | None = None) -> list[StoredMessage]:
    """The messages of ``topic`` stored under ``key`` on one broker (empty when none)."""
    fields = {"topic": topic, "key": key, "maxNum": max_num, "beginTimestamp": begin_ms,
              "endTimestamp": end_ms if end_ms is not None else int(time.time() * 1000) + 60_000}
    try:
        answer = conn.request(f"query {topic} key {key}", QUERY_MESSAGE, fields,
                              ok=(0, QUERY_NOT_FOUND))
    except RemotingError as e:
        raise CheckpointError(str(e)) from e
    if answer.code == QUERY_NOT_FOUND:
        return []
    # the index matches on the key's hash: keep the messages that really carry the key
    return [m for m in decode_messages(answer.body) if m.topic == topic and key in m.keys]


def broker_addresses(namesrv_addr: str, topic: str, timeout: float = 10.0) -> list[str]:
    """The master brokers that hold ``topic``, as the name server routes it (unsigned: the name
    server has no authentication in 5.3.3)."""
    with Connection(namesrv_addr, None, None, timeout) as conn:
        answer = conn.request(f"route of {topic}", GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
    route = parse_json(answer.body)
    return sorted(b["brokerAddrs"]["0"] for b in route.get("brokerDatas") or []
                  if "0" in (b.get("brokerAddrs") or {}))


def last_checkpoint(addr: str, access_key: str, secret_key: str, topic: str, task_id: str,
                    brokers: list[str] | None = None, timeout: float = 10.0) -> bytes | None:
    """The body of the newest checkpoint stored under ``task_id``, or None.

    ``addr`` is a name server (the topic's brokers are looked up) unless ``brokers`` names the
    brokers' remoting addresses as this process reaches them. "Newest" is the latest store
    time, then the higher queue offset (one task's checkpoints all carry the same key, and the
    client's default queue selector spreads them over the topic's queues)."""
    found: list[StoredMessage] = []
    for broker in brokers or broker_addresses(addr, topic, timeout):
        with Connection(broker, access_key, secret_key, timeout) as conn:
            found.extend(query_by_key(conn, topic, task_id))
    if not found:
        return None
    return max(found, key=lambda m: (m.store_timestamp, m.commit_log_offset)).body

