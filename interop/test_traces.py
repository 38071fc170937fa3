"""LoadGuard's JSON-lines trace: one record per frame, raw text kept, secrets redacted."""

from __future__ import annotations

import asyncio
import json

import pytest

from support import sessions
from support.schemas import CALL, VERSIONS

REQUIRED_KEYS = {"ts", "charger", "version", "direction", "origin", "type", "id", "action", "frame"}


async def wait_for_trace(loadguard, count: int, timeout: float = 5.0) -> list[dict]:
    """Poll the trace file until it holds ``count`` records (it may be written asynchronously)."""
    records = loadguard.trace()
    async with asyncio.timeout(timeout):
        while len(records) < count:
            await asyncio.sleep(0.05)
            records = loadguard.trace()
    return records


@pytest.mark.parametrize("version", VERSIONS)
async def test_trace_has_one_record_per_frame_with_secrets_redacted(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.session(charger)
    injected = await loadguard.inject("CP-1", "SetChargingProfile", sessions.charging_profile(version, 16.0))
    assert injected.status == 200, injected.text
    csms_ids = {f.id for f in upstream.wire.sent_frames()}
    expected = len(charger.wire.sent()) + len(charger.wire.received())

    try:
        records = await wait_for_trace(loadguard, expected)
    except TimeoutError:
        pytest.fail(f"trace has {len(loadguard.trace())} records, expected {expected}")

    text = loadguard.trace_path.read_text()
    assert sessions.ID_TAG not in text, "idTag/idToken values must be redacted in the trace"
    for record in records:
        assert REQUIRED_KEYS <= set(record), f"trace record lacks {REQUIRED_KEYS - set(record)}: {record}"
        assert record["charger"] == "CP-1"
        assert version in str(record["version"]), record["version"]
        assert record["direction"] in ("charger_to_csms", "to_charger")
        assert record["origin"] in ("charger", "csms", "loadguard")
        assert record["type"] in (2, 3, 4, 5, 6)
    by_key = {(r["direction"], r["id"], r["type"]): r for r in records}
    for frame in charger.wire.sent_frames():
        record = by_key.get(("charger_to_csms", frame.id, frame.type))
        assert record is not None, f"no trace record for the charger's frame {frame.text[:120]}"
        assert record["origin"] == "charger"
        if frame.type == CALL:
            assert record["action"] == frame.action
        if sessions.ID_TAG not in frame.text:
            assert record["frame"] == frame.text, "the trace must hold the raw frame"
        else:
            assert json.loads(record["frame"])[:3] == json.loads(frame.text)[:3]
    for frame in charger.wire.received_frames():
        record = by_key.get(("to_charger", frame.id, frame.type))
        assert record is not None, f"no trace record for the frame to the charger {frame.text[:120]}"
        origin = "csms" if frame.id in csms_ids else "loadguard"
        assert record["origin"] == origin, f"{frame.text[:120]} came from the {origin}"
        if sessions.ID_TAG not in frame.text:
            assert record["frame"] == frame.text
