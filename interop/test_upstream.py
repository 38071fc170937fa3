"""The charger's connection outlives the CSMS's: outages, restarts, a CSMS that is down at the upgrade."""

from __future__ import annotations

import asyncio
import json

import pytest

from support import schemas, sessions
from support.checks import assert_same_frames
from support.schemas import CALL

RECONNECT_TIMEOUT = 30.0  # LoadGuard's first reconnect attempts come within a few seconds


async def boot_until_accepted(charger, timeout: float = 10.0) -> None:
    """Boot as a charger answered Pending does, only faster: again until Accepted.

    LoadGuard may still be replaying held calls when the link is back; a boot it holds meanwhile is
    answered Pending once more.
    """
    async with asyncio.timeout(timeout):
        while await sessions.boot(charger) != "Accepted":
            await asyncio.sleep(0.1)


async def wait_traced(loadguard, message_id: str, timeout: float = 5.0) -> None:
    """Wait until LoadGuard's trace shows it received the frame with ``message_id``."""
    async with asyncio.timeout(timeout):
        while not any(r.get("id") == message_id for r in loadguard.trace()):
            await asyncio.sleep(0.02)


def calls_received(session) -> list[str]:
    return [f.text for f in session.wire.received_frames() if f.type == CALL and f.action != "Heartbeat"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_csms_restart_keeps_the_charger_connected_and_delivers_held_calls_in_order(lab, version):
    csms, loadguard, charger, first = await lab.linked(version)
    assert await sessions.boot(charger) == "Accepted"

    await csms.kill()
    await first.wire.wait_closed()
    # Heartbeats are answered by LoadGuard; what the CSMS must see is held and answered locally,
    # a BootNotification with Pending (never a made-up Accepted).
    await sessions.heartbeat(charger)
    mark = len(charger.wire.sent())
    await sessions.status(charger, "Charging")
    await sessions.meter_values(charger, 130000)
    assert await sessions.boot(charger) == "Pending"
    await sessions.heartbeat(charger)
    held = [t for t in charger.wire.sent()[mark:] if schemas.parse_frame(t)[2] != "Heartbeat"]
    assert len(held) == 3

    await csms.start()
    second = await csms.wait_session("CP-1", count=2, timeout=RECONNECT_TIMEOUT)
    assert second.subprotocol == schemas.SUBPROTOCOL[version]
    await second.wire.wait_for(lambda: len(calls_received(second)) >= 3, timeout=10, what="the held calls")

    assert_same_frames(held, calls_received(second)[:3], "held calls replayed to the CSMS")
    assert not charger.wire.closed.is_set(), "the charger's connection must outlive the CSMS's"
    # Live again: charger calls reach the CSMS, CSMS calls reach the charger.
    await sessions.status(charger, "Available")
    await second.wire.wait_for(lambda: len(calls_received(second)) >= 4, what="a live call after the replay")
    assert calls_received(second)[3] == charger.wire.sent()[-1]
    answer = await second.call(sessions.configuration_read(version, "HeartbeatInterval"))
    assert sessions.configuration_key_of(version, answer) == "HeartbeatInterval"
    assert loadguard.running()


@pytest.mark.parametrize(
    "offered, expected",
    [
        (["ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
    ],
)
async def test_charger_connecting_while_the_csms_is_down_gets_a_subprotocol_and_stays(lab, offered, expected):
    csms = await lab.csms()
    await csms.kill()  # its port is known and nothing listens on it
    loadguard = await lab.loadguard(upstream=csms.url)

    charger = await lab.charger(loadguard, "CP-1", offered)

    assert charger.subprotocol == expected, "without a CSMS the charger gets its most preferred known subprotocol"
    assert await sessions.boot(charger) == "Pending"
    await sessions.heartbeat(charger)
    boot_frame = next(t for t in charger.wire.sent() if '"BootNotification"' in t)

    await csms.start()
    upstream = await csms.wait_session("CP-1", timeout=RECONNECT_TIMEOUT)
    assert upstream.subprotocol == expected
    await upstream.wire.wait_for(lambda: calls_received(upstream), timeout=10, what="the held BootNotification")
    assert calls_received(upstream)[0] == boot_frame
    assert not charger.wire.closed.is_set()
    # The charger boots again, as one answered Pending does, and soon gets the CSMS's answer.
    await boot_until_accepted(charger)


async def test_charger_leaving_closes_its_upstream_connection(lab):
    csms, loadguard, charger, upstream = await lab.linked("1.6")
    await sessions.boot(charger)

    await charger.close()

    await upstream.wire.wait_closed()
    assert loadguard.running()


def start_transaction(message_id: str) -> str:
    payload = {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": sessions.now()}
    return json.dumps([2, message_id, "StartTransaction", payload], separators=(",", ":"))


async def test_transaction_while_the_csms_is_down_is_never_answered_with_an_error_and_reaches_it(lab):
    csms = await lab.csms()
    await csms.kill()  # down from the start: LoadGuard knows it has no CSMS link
    loadguard = await lab.loadguard(upstream=csms.url)
    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"])
    assert await sessions.boot(charger) == "Pending"
    start = start_transaction("tx-start-1")

    # LoadGuard may answer a StartTransaction itself or hold it until the CSMS answers; it must not
    # answer it with a CALLERROR (the charger could drop the transaction and its billing data).
    answer = asyncio.create_task(charger.wire.call_raw(start, timeout=RECONNECT_TIMEOUT + 10))
    try:
        await wait_traced(loadguard, "tx-start-1")  # LoadGuard has it while the CSMS is still down
        await csms.start()
        upstream = await csms.wait_session("CP-1", timeout=RECONNECT_TIMEOUT)

        assert json.loads(await answer)[0] == 3, f"StartTransaction answered with {await answer}"
        await upstream.wire.wait_received(lambda f: f.text == start, timeout=10, what="the StartTransaction")
        assert [f.text for f in upstream.wire.received_frames()].count(start) == 1, "delivered exactly once"
    finally:
        answer.cancel()


async def test_transaction_in_flight_when_the_csms_drops_is_delivered_after_the_restart(lab):
    csms, loadguard, charger, first = await lab.linked("1.6")
    await sessions.boot(charger)
    csms.hold("StartTransaction")  # the CSMS receives it and dies before answering
    start = start_transaction("tx-start-2")

    answer = asyncio.create_task(charger.wire.call_raw(start, timeout=RECONNECT_TIMEOUT + 10))
    try:
        await first.wire.wait_received(lambda f: f.text == start, what="the StartTransaction at the CSMS")
        await csms.kill()
        await csms.start()
        second = await csms.wait_session("CP-1", count=2, timeout=RECONNECT_TIMEOUT)

        # Unanswered when the link dropped, so the CSMS may not have processed it: it is delivered
        # again, and the charger gets a CALLRESULT (LoadGuard's or the CSMS's), never an error.
        await second.wire.wait_received(lambda f: f.text == start, timeout=10, what="the StartTransaction again")
        assert json.loads(await answer)[0] == 3, f"StartTransaction answered with {await answer}"
    finally:
        answer.cancel()
