"""No upstream configured: LoadGuard is the charger's local controller and answers everything."""

from __future__ import annotations

import json

import pytest

from support import schemas, sessions
from support.schemas import VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
async def test_standalone_session_is_answered_locally(lab, version):
    loadguard = await lab.loadguard(upstream=None)
    charger = await lab.charger(loadguard, "CP-1", [schemas.SUBPROTOCOL[version]])
    assert charger.subprotocol == schemas.SUBPROTOCOL[version]

    first = await sessions.session(charger)
    second = await sessions.session(charger)

    assert first.boot_status == "Accepted"
    if version == "1.6":
        assert isinstance(first.transaction_id, int) and isinstance(second.transaction_id, int)
        assert first.transaction_id != second.transaction_id, "each transaction needs its own id"
    answers = [f for f in charger.wire.received_frames() if f.type in (3, 4)]
    assert answers and all(f.type == 3 for f in answers), "a standalone controller answers with CALLRESULTs"
    trace = loadguard.trace()
    local = [r for r in trace if r.get("direction") == "to_charger"]
    assert local and all(r.get("origin") == "loadguard" for r in local)


async def test_standalone_injected_call_reaches_the_charger(lab):
    loadguard = await lab.loadguard(upstream=None)
    charger = await lab.charger(loadguard, "CP-1", ["ocpp2.0.1"])
    await sessions.boot(charger)

    profile = sessions.charging_profile("2.0.1", 20.0)

    response = await loadguard.inject("CP-1", "SetChargingProfile", profile)

    assert response.status == 200 and response.body == {"result": {"status": "Accepted"}}, response.text
    received = [f for f in charger.wire.received_frames() if f.action == "SetChargingProfile"]
    assert [json.loads(f.text)[3] for f in received].count(profile) == 1


async def test_json_logs_are_one_object_per_line_with_time_level_message_and_context(lab):
    loadguard = await lab.loadguard(upstream=None, args=["--log-format", "json"])
    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"])
    await sessions.boot(charger)
    await charger.close()
    assert await loadguard.stop() == 0, loadguard.log_tail()

    lines = [line for line in loadguard.log_path.read_text().splitlines() if line.strip()]
    assert lines, "LoadGuard logged nothing"
    records = []
    for line in lines:
        record = json.loads(line)  # every line is one JSON object, nothing else
        assert isinstance(record, dict), line
        assert {"ts", "level", "message", "label"} <= record.keys(), line
        assert record["level"] in {"trace", "debug", "info", "notice", "warning", "error", "critical"}, line
        assert record["ts"].endswith("Z") and "T" in record["ts"], line
        records.append(record)
    connected = [r for r in records if r["message"] == "Charger connected"]
    assert connected and connected[0].get("charger.id") == "CP-1", records
    assert connected[0].get("ocpp.version") == "1.6", connected[0]
