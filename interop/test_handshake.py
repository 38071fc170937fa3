"""The WebSocket upgrade: charger identity, Basic auth, subprotocol negotiation."""

from __future__ import annotations

import asyncio
import urllib.parse

import pytest
import websockets.asyncio.client
from websockets.exceptions import ConnectionClosed, InvalidStatus

from support import sessions
from support.checks import assert_conversation_forwarded
from support.peers import basic_auth


async def refused_status(url: str, subprotocols=("ocpp1.6",), headers=None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connection = await websockets.asyncio.client.connect(
            url, subprotocols=list(subprotocols), additional_headers=headers, open_timeout=10
        )
        await connection.close()
    return refused.value.response.status_code


async def test_unknown_charger_id_is_refused_with_404(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1"}])

    assert await refused_status(loadguard.charger_url("CP-UNKNOWN")) == 404
    assert not csms.sessions, "a refused charger must not get an upstream connection"


async def test_path_outside_the_prefix_is_refused_with_404(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1"}])

    assert await refused_status(f"ws://127.0.0.1:{loadguard.port}/elsewhere/CP-1") == 404
    assert await refused_status(f"ws://127.0.0.1:{loadguard.port}/ocpp") == 404
    assert not csms.sessions


async def test_unknown_charger_id_is_accepted_when_configured(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[], accept_unknown_chargers=True)

    charger = await lab.charger(loadguard, "CP-NEW", ["ocpp1.6"])

    assert await sessions.boot(charger) == "Accepted"
    assert (await csms.wait_session("CP-NEW")).path == "/ocpp/CP-NEW"


async def test_charger_id_is_percent_decoded_and_length_limited(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP 7"}], accept_unknown_chargers=False)

    charger = await lab.charger(loadguard, "CP 7", ["ocpp1.6"])  # sent as CP%207

    assert await sessions.boot(charger) == "Accepted"
    upstream = await csms.wait_session("CP 7")
    assert urllib.parse.unquote(upstream.path) == "/ocpp/CP 7"
    # OCPP identities are at most 48 characters.
    lab_unknown = await lab.loadguard(upstream=csms.url, chargers=[], accept_unknown_chargers=True, name="unknown")
    status = await refused_status(lab_unknown.charger_url("X" * 49))
    assert 400 <= status < 500


async def test_basic_auth_password_is_checked_and_the_header_forwarded(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1", "password": "s3cret-Pa55"}])

    assert await refused_status(loadguard.charger_url("CP-1")) == 401
    assert await refused_status(loadguard.charger_url("CP-1"), headers=basic_auth("CP-1", "wrong")) == 401
    assert await refused_status(loadguard.charger_url("CP-1"), headers=basic_auth("CP-2", "s3cret-Pa55")) == 401
    assert not csms.sessions

    good = basic_auth("CP-1", "s3cret-Pa55")
    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"], headers=good)
    assert await sessions.boot(charger) == "Accepted"
    upstream = await csms.wait_session("CP-1")
    assert upstream.headers.get("Authorization") == good["Authorization"]
    log = loadguard.log_path.read_text(errors="replace")
    assert "s3cret-Pa55" not in log and good["Authorization"].split()[1] not in log, "the password reached the log"
    trace = loadguard.trace_path.read_text() if loadguard.trace_path.exists() else ""
    assert "s3cret-Pa55" not in trace and good["Authorization"].split()[1] not in trace


async def test_authorization_is_passed_through_when_no_password_is_configured(lab):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url, chargers=[{"id": "CP-1"}])
    header = basic_auth("CP-1", "checked-by-the-csms")

    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6"], headers=header)

    await sessions.boot(charger)
    assert (await csms.wait_session("CP-1")).headers.get("Authorization") == header["Authorization"]


@pytest.mark.parametrize("offered", [["ocpp9.9"], [], ["ocpp1.5", "soap"]])
async def test_no_common_subprotocol_completes_without_one_and_is_closed(lab, offered):
    csms = await lab.csms()
    loadguard = await lab.loadguard(upstream=csms.url)

    connection = await websockets.asyncio.client.connect(
        loadguard.charger_url("CP-1"), subprotocols=offered or None, open_timeout=10
    )
    try:
        assert connection.subprotocol is None
        assert "Sec-WebSocket-Protocol" not in connection.response.headers
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await connection.recv()
    finally:
        await connection.close()


async def test_subprotocol_is_the_one_the_csms_chose(lab):
    csms_16 = await lab.csms(subprotocols=("ocpp1.6",))
    loadguard = await lab.loadguard(upstream=csms_16.url)

    charger = await lab.charger(loadguard, "CP-1", ["ocpp2.0.1", "ocpp1.6"])

    assert charger.subprotocol == "ocpp1.6"
    upstream = await csms_16.wait_session("CP-1")
    assert upstream.subprotocol == "ocpp1.6"
    offered_upstream = [
        p.strip() for line in upstream.headers.get_all("Sec-WebSocket-Protocol") for p in line.split(",")
    ]
    assert offered_upstream == ["ocpp2.0.1", "ocpp1.6"], "the upstream offer must be what the charger offered"
    await sessions.session(charger)
    assert_conversation_forwarded(charger, upstream)


async def test_csms_preference_wins_among_offered_subprotocols(lab):
    csms = await lab.csms(subprotocols=("ocpp2.0.1", "ocpp1.6"))
    loadguard = await lab.loadguard(upstream=csms.url)

    charger = await lab.charger(loadguard, "CP-1", ["ocpp1.6", "ocpp2.0.1"])

    assert charger.subprotocol == "ocpp2.0.1"
    assert (await csms.wait_session("CP-1")).subprotocol == "ocpp2.0.1"
    assert await sessions.boot(charger) == "Accepted"
