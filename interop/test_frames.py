"""Frames at the size limit and frames that are not valid OCPP, in both directions."""

from __future__ import annotations

import json

import pytest

from support import sessions
from support.checks import assert_conversation_forwarded

MIB = 1024 * 1024


def frame_of_size(size: int, build) -> str:
    """``build(data)`` with ``data`` padded so that the frame is exactly ``size`` bytes (ASCII)."""
    empty = build("")
    frame = build("x" * (size - len(empty.encode())))
    assert len(frame.encode()) == size
    return frame


def data_transfer(message_id: str, data: str) -> str:
    return json.dumps(
        [2, message_id, "DataTransfer", {"vendorId": "com.loadguard.interop", "data": data}], separators=(",", ":")
    )


def data_transfer_result(message_id: str, data: str) -> str:
    # The form the ocpp library writes: compact, status before data.
    return json.dumps([3, message_id, {"status": "Accepted", "data": data}], separators=(",", ":"))


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_one_mebibyte_frames_are_forwarded_both_ways(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)
    csms.data_transfer_reply = lambda unique_id, _: json.loads(
        frame_of_size(MIB, lambda d: data_transfer_result(unique_id, d))
    )[2]["data"]
    charger.data_transfer_reply = csms.data_transfer_reply

    up = frame_of_size(MIB, lambda d: data_transfer("big-up", d))
    answer = await charger.wire.call_raw(up, timeout=20)
    down = frame_of_size(MIB, lambda d: data_transfer("big-down", d))
    answer_down = await upstream.wire.call_raw(down, timeout=20)

    assert len(answer.encode()) == MIB and len(answer_down.encode()) == MIB
    assert_conversation_forwarded(charger, upstream)


JUNK = [
    '[2,"junk-1","Heartbeat",{',  # truncated
    "this is not JSON",
    '{"messageTypeId":2,"action":"Heartbeat"}',  # JSON, but not an OCPP array
    '[2,"junk-4","Heartbeat",{}]]',  # trailing garbage
    "[]",
    '[2,"junk-6","StatusNotification",{"connectorId":"one"}]',  # valid JSON, invalid payload
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_invalid_frames_are_forwarded_unchanged_both_ways(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)

    for junk in JUNK:
        upstream.wire.exempt(junk)
        await charger.wire.send_raw(junk)
        await upstream.wire.wait_received(lambda f, junk=junk: f.text == junk, what=f"junk {junk!r} at the CSMS")
    for junk in JUNK:
        charger.wire.exempt(junk)
        await upstream.wire.send_raw(junk)
        await charger.wire.wait_received(lambda f, junk=junk: f.text == junk, what=f"junk {junk!r} at the charger")
    # The ocpp library answers the schema-invalid StatusNotification with a CALLERROR; let both arrive.
    await charger.wire.wait_received(lambda f: f.id == "junk-6" and f.type == 4, what="the CSMS's CALLERROR")
    await upstream.wire.wait_received(lambda f: f.id == "junk-6" and f.type == 4, what="the charger's CALLERROR")

    # Both links still work afterwards.
    await sessions.heartbeat(charger)
    answer = await upstream.call(sessions.configuration_read(version, "HeartbeatInterval"))
    assert sessions.configuration_key_of(version, answer) == "HeartbeatInterval"
    assert_conversation_forwarded(charger, upstream)
