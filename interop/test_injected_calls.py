"""Calls LoadGuard sends on its own (the REST API's injected calls) next to the CSMS's calls."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from support import sessions
from support.checks import assert_conversation_forwarded, loadguard_call_ids
from support.schemas import CALL, VERSIONS


def answers_to(wire, ids: set[str]) -> list[str]:
    return [f.text for f in wire.sent_frames() if f.type in (3, 4) and f.id in ids]


def calls_received(charger, action: str, payload: dict | None = None) -> list:
    """The CALLs of ``action`` the charger received (with exactly ``payload``, if given)."""
    return [
        f
        for f in charger.wire.received_frames()
        if f.action == action and (payload is None or json.loads(f.text)[3] == payload)
    ]


@pytest.mark.parametrize("version", VERSIONS)
async def test_injected_set_charging_profile_reaches_the_charger_and_its_result_not_the_csms(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)
    await sessions.status(charger, "Charging")
    profile = sessions.charging_profile(version, 13.5)

    response = await loadguard.inject("CP-1", "SetChargingProfile", profile)

    assert response.status == 200, response.text
    assert response.body == {"result": {"status": "Accepted"}}
    received = calls_received(charger, "SetChargingProfile", profile)
    assert len(received) == 1, "the charger must get the payload the API was given, once"
    assert answers_to(charger.wire, {received[0].id}) == [f'[3,"{received[0].id}",{{"status":"Accepted"}}]']
    # A CSMS call after it still works, and the injected result never went upstream (the CSMS's
    # wire also reports any answer it did not ask for).
    answer = await upstream.call(sessions.configuration_read(version, "HeartbeatInterval"))
    assert sessions.configuration_key_of(version, answer) == "HeartbeatInterval"
    assert received[0].id in assert_conversation_forwarded(charger, upstream)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_injected_call_answered_with_callerror_reports_the_error(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)
    # The charger implements no Reset: the ocpp library answers CALLERROR NotImplemented.
    payload = {"type": "Soft"} if version == "1.6" else {"type": "OnIdle"}

    response = await loadguard.inject("CP-1", "Reset", payload)

    assert response.status == 200, response.text
    assert set(response.body) == {"error"}, response.body
    assert response.body["error"]["code"] == "NotImplemented"
    assert isinstance(response.body["error"]["description"], str)
    assert isinstance(response.body["error"]["details"], dict)
    assert len(calls_received(charger, "Reset", payload)) == 1
    await sessions.heartbeat(charger)
    assert_conversation_forwarded(charger, upstream)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_injected_call_timeout_answers_504_frees_the_slot_and_drops_the_late_answer(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)
    release = charger.hold("SetChargingProfile")

    started = time.monotonic()
    response = await loadguard.inject("CP-1", "SetChargingProfile", sessions.charging_profile(version, 10.0), timeout=1)
    elapsed = time.monotonic() - started

    assert response.status == 504, response.text
    assert (
        elapsed < 4
    ), f"the request asked for a 1 s timeout (config call_timeout: 10 s); 504 came after {elapsed:.1f} s"
    ids = {f.id for f in calls_received(charger, "SetChargingProfile")}
    assert len(ids) == 1
    release.set()
    await charger.wire.wait_for(lambda: answers_to(charger.wire, ids), what="the charger's late answer")
    # The slot is free again: a CSMS call goes through; the late answer was consumed, not forwarded
    # (the CSMS's wire reports any answer it did not ask for).
    answer = await upstream.call(sessions.configuration_read(version, "HeartbeatInterval"))
    assert sessions.configuration_key_of(version, answer) == "HeartbeatInterval"
    assert_conversation_forwarded(charger, upstream)


async def test_api_answers_404_for_unknown_or_disconnected_chargers_and_401_without_token(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1"}, {"id": "CP-2"}])
    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"])
    await sessions.boot(charger)
    profile = sessions.charging_profile("1.6", 16.0)

    assert (await loadguard.inject("NOT-CONFIGURED", "SetChargingProfile", profile)).status == 404
    assert (await loadguard.inject("CP-2", "SetChargingProfile", profile)).status == 404
    assert (await loadguard.inject("CP-1", "SetChargingProfile", profile, token=None)).status == 401
    assert (await loadguard.inject("CP-1", "SetChargingProfile", profile, token="wrong")).status == 401
    assert not [
        f for f in charger.wire.received_frames() if f.action == "SetChargingProfile"
    ], "a refused API request must not reach the charger"
    assert (await loadguard.inject("CP-1", "SetChargingProfile", profile)).status == 200

    await charger.close()
    await (await csms.wait_session("CP-1")).wire.wait_closed()
    # LoadGuard may unregister the charger a moment after it closed the upstream connection.
    async with asyncio.timeout(5):
        while (response := await loadguard.inject("CP-1", "SetChargingProfile", profile, timeout=1)).status != 404:
            assert response.status == 504, f"a charger that left must be 'not connected': {response.text}"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_csms_and_injected_calls_interleave_one_in_flight(lab, version):
    csms, loadguard, charger, upstream = await lab.linked(version)
    await sessions.boot(charger)
    charger.answer_delay = 0.05  # a slow charger keeps a call in flight long enough to overlap
    keys = [f"Key{i}" for i in range(6)]

    async def csms_calls():
        answered = []
        for key in keys:
            answer = await upstream.call(sessions.configuration_read(version, key))
            answered.append(sessions.configuration_key_of(version, answer))
        return answered

    profiles = [sessions.charging_profile(version, 6.0 + i, profile_id=9001 + i) for i in range(6)]

    async def injected(profile):
        return await loadguard.inject("CP-1", "SetChargingProfile", profile)

    results = await asyncio.gather(csms_calls(), *(injected(p) for p in profiles))

    assert results[0] == keys, "every CSMS call must get its own answer"
    for response in results[1:]:
        assert response.status == 200 and response.body == {"result": {"status": "Accepted"}}, response.text
    # The charger never had two calls in flight (its wire checks that on every frame); the CSMS's
    # calls reached it in the order sent, each delayed behind at most one injected call.
    csms_calls_sent = [f for f in upstream.wire.sent_frames() if f.type == CALL]
    at_charger = {f.id: f for f in charger.wire.received_frames() if f.type == CALL}
    assert [f.id for f in charger.wire.received_frames() if f.id in {c.id for c in csms_calls_sent}] == [
        c.id for c in csms_calls_sent
    ]
    for profile in profiles:
        assert len(calls_received(charger, "SetChargingProfile", profile)) == 1
    ids = loadguard_call_ids(charger, upstream)
    for sent in csms_calls_sent:
        arrived = at_charger[sent.id]
        overtaken_by = [i for i in ids if sent.at < at_charger[i].at < arrived.at]
        assert (
            len(overtaken_by) <= 1
        ), f"CSMS call {sent.id} waited behind {len(overtaken_by)} injected calls (at most 1 allowed)"
    assert_conversation_forwarded(charger, upstream)
