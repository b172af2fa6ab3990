"""The stored-message decoder of rocketmq_admin.checkpoints (QUERY_MESSAGE answers), on messages
laid out as RocketMQ 5.3.3's CommitLog writes them (MessageDecoder's field order)."""

from __future__ import annotations

import struct
import zlib

import pytest

from rocketmq_admin.checkpoints import (BORNHOST_V6_FLAG, COMPRESSED_FLAG, MAGIC_V1, MAGIC_V2,
                                        STOREHOST_V6_FLAG, CheckpointError, decode_messages)


def stored(body: bytes, topic: str = "t_checkpoints", props: str = "KEYS\x01task-1\x02UNIQ_KEY\x01AB\x02",
           magic: int = MAGIC_V1, sys_flag: int = 0, queue_offset: int = 7, store_ts: int = 1700000000123,
           commit_offset: int = 4096) -> bytes:
    born = (b"\0" * 16 if sys_flag & BORNHOST_V6_FLAG else b"\x7f\0\0\x01") + struct.pack(">i", 1234)
    store = (b"\0" * 16 if sys_flag & STOREHOST_V6_FLAG else b"\x7f\0\0\x01") + struct.pack(">i", 10911)
    topic_b, props_b = topic.encode(), props.encode()
    topic_len = struct.pack(">b", len(topic_b)) if magic == MAGIC_V1 else struct.pack(">h", len(topic_b))
    rest = (struct.pack(">iiiqqiq", 0, 2, 0, queue_offset, commit_offset, sys_flag, 1699999999000) + born
            + struct.pack(">q", store_ts) + store + struct.pack(">iq", 1, 0)
            + struct.pack(">i", len(body)) + body + topic_len + topic_b
            + struct.pack(">h", len(props_b)) + props_b)
    return struct.pack(">ii", 8 + len(rest), magic) + rest


def test_decodes_one_message():
    (m,) = decode_messages(stored(b'{"step": 3}'))
    assert (m.topic, m.body, m.queue_id, m.queue_offset, m.commit_log_offset) == (
        "t_checkpoints", b'{"step": 3}', 2, 7, 4096)
    assert (m.store_timestamp, m.born_timestamp, m.reconsume_times) == (1700000000123, 1699999999000, 1)
    assert m.keys == ("task-1",) and m.properties["UNIQ_KEY"] == "AB"


def test_decodes_messages_back_to_back_v2_ipv6_and_zlib():
    data = (stored(b"a", queue_offset=1)
            + stored(b"b", magic=MAGIC_V2, sys_flag=BORNHOST_V6_FLAG | STOREHOST_V6_FLAG, queue_offset=2)
            + stored(zlib.compress(b"c" * 100), sys_flag=COMPRESSED_FLAG | (3 << 8), queue_offset=3))
    assert [(m.body, m.queue_offset) for m in decode_messages(data)] == [(b"a", 1), (b"b", 2), (b"c" * 100, 3)]


def test_several_keys_and_no_properties():
    (m,) = decode_messages(stored(b"x", props="KEYS\x01k1 k2\x02"))
    assert m.keys == ("k1", "k2")
    (m,) = decode_messages(stored(b"x", props=""))
    assert m.keys == () and m.properties == {}


def test_empty_body_is_no_messages():
    assert decode_messages(b"") == []


@pytest.mark.parametrize("data, message", [
    (stored(b"x")[:-3], "bad message size"),
    (b"\0\0\0\x05", "truncated"),
    (struct.pack(">ii", 60, 12345) + b"\0" * 52, "unknown magic code"),
    (stored(b"x", sys_flag=COMPRESSED_FLAG | (1 << 8)), "compressed with type 1"),
])
def test_refuses_what_it_cannot_decode(data, message):
    with pytest.raises(CheckpointError, match=message):
        decode_messages(data)
