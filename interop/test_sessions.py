"""Charging sessions through LoadGuard: every frame arrives at the other peer byte for byte."""

from __future__ import annotations

import json

import pytest

from support import sessions
from support.checks import assert_conversation_forwarded
from support.schemas import VERSIONS

SESSION_ACTIONS = {
    "1.6": [
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StatusNotification",
        "StartTransaction",
        "StatusNotification",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
        "StatusNotification",
    ],
    "2.x": [
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "Authorize",
        "StatusNotification",
        "TransactionEvent",
        "TransactionEvent",
        "TransactionEvent",
        "MeterValues",
        "TransactionEvent",
        "StatusNotification",
    ],
}


@pytest.mark.parametrize("version", VERSIONS)
async def test_session_is_forwarded_byte_exact_both_ways(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)

    result = await sessions.session(charger)
    for key in ("HeartbeatInterval", "MeterValueSampleInterval"):
        answer = await upstream.call(sessions.configuration_read(version, key))
        assert sessions.configuration_key_of(version, answer) == key

    assert result.boot_status == "Accepted"
    if version == "1.6":
        assert result.transaction_id == 1001, "the CSMS's transaction id must reach the charger unchanged"
    assert upstream.path == "/ocpp/CP-1"
    assert upstream.handled.actions() == SESSION_ACTIONS["1.6" if version == "1.6" else "2.x"]
    csms_ids = {f.id for f in upstream.wire.sent_frames()}
    assert [a for a, unique_id, _ in charger.handled.calls if unique_id in csms_ids] == [
        "GetConfiguration" if version == "1.6" else "GetVariables"
    ] * 2
    assert_conversation_forwarded(charger, upstream)
    assert loadguard.running()


# Frames as a person or another library might write them: whitespace, escapes, key order and
# number forms that a proxy which re-serializes JSON would change.
ODD_FROM_CHARGER = {
    "1.6": [
        '[2,\t"odd-hb" ,"Heartbeat",  { }\n]',
        '[2,"odd-dt","DataTransfer",{"vendorId":"com.loadguard.interop","messageId":"fmt",'
        '"data":"caf\\u00e9 caf\u00e9 \\ud83d\\ude00 \U0001f600 \\"q\\" \\/ \\\\ \\t"}]',
        '[2,"odd-mv","MeterValues",{"meterValue":[{"sampledValue":[{"value":"1.50E+1","unit":"A",'
        '"measurand":"Current.Import","phase":"L1"}],"timestamp":"2025-01-01T00:00:00.000+01:00"}],"connectorId":1}]',
    ],
    "2.x": [
        '[2,\t"odd-hb" ,"Heartbeat",  { }\n]',
        '[2,"odd-dt","DataTransfer",{"vendorId":"com.loadguard.interop","messageId":"fmt",'
        '"data":{"text":"caf\\u00e9 caf\u00e9 \\ud83d\\ude00 \U0001f600 \\"q\\" \\/ \\\\",'
        '"n":[1.50E+1,0.10,-0.0,1e-7,10]}}]',
        '[2,"odd-mv","MeterValues",{"meterValue":[{"sampledValue":[{"value":1.50E+1,"measurand":"Current.Import",'
        '"phase":"L1","unitOfMeasure":{"unit":"A","multiplier":0}}],"timestamp":"2025-01-01T00:00:00.000+01:00"}],'
        '"evseId":1}]',
    ],
}
ODD_FROM_CSMS = {
    "1.6": [
        '[2 , "odd-gc" , "GetConfiguration" , { "key" : [ "HeartbeatInterval" ] } ]',
        '[2,"odd-cdt","DataTransfer",{"data":"\\u00fc\u00fc \\ud83d\\ude00","vendorId":"com.loadguard.interop"}]',
    ],
    "2.x": [
        '[2 , "odd-gv" , "GetVariables" , { "getVariableData" : [ { "variable" : { "name" : "HeartbeatInterval" } ,'
        ' "component" : { "name" : "OCPPCommCtrlr" } } ] } ]',
        '[2,"odd-cdt","DataTransfer",{"data":{"\\u00fc":[1.0E2,2.50]},"vendorId":"com.loadguard.interop"}]',
    ],
}


@pytest.mark.parametrize("version", VERSIONS)
async def test_unusual_json_formatting_is_forwarded_unchanged(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    family = "1.6" if version == "1.6" else "2.x"
    await sessions.boot(charger)

    for frame in ODD_FROM_CHARGER[family]:
        json.loads(frame)  # the frames are valid JSON: only their form is unusual
        answer = await charger.wire.call_raw(frame)
        assert json.loads(answer)[0] == 3, f"the CSMS refused {frame!r}: {answer}"
        assert frame in upstream.wire.received()
    for frame in ODD_FROM_CSMS[family]:
        answer = await upstream.wire.call_raw(frame)
        assert json.loads(answer)[0] == 3, f"the charger refused {frame!r}: {answer}"
        assert frame in charger.wire.received()

    assert_conversation_forwarded(charger, upstream)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_two_chargers_have_separate_upstream_connections(lab, version):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1"}, {"id": "CP-2"}])
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    first = await lab.charger(loadguard, "CP-1", [subprotocol])
    second = await lab.charger(loadguard, "CP-2", [subprotocol])

    await sessions.session(first)
    await sessions.session(second)

    up1, up2 = await csms.wait_session("CP-1"), await csms.wait_session("CP-2")
    assert (up1.path, up2.path) == ("/ocpp/CP-1", "/ocpp/CP-2")
    assert_conversation_forwarded(first, up1)
    assert_conversation_forwarded(second, up2)
