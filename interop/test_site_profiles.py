"""LoadGuard's limit stays on the chargers: against the CSMS's own profiles, reconnects and CSMS outages.

The chargers keep their charging profiles the way OCPP says (see ``support.site``): a CSMS that
clears or replaces LoadGuard's profile really removes it, and a charger that reboots forgets it.
LoadGuard must notice and install its limit again within 2 s, keep enforcing limits while the CSMS is
down, and let the charger–CSMS conversation through unchanged when it is back. Every frame LoadGuard
injects is schema-valid and none of its results reach the CSMS (``support.site_checks``).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from support import sessions
from support.site import DEFAULT_CHARGERS, PROFILE_ID, IEC_MINIMUM, start_site
from support.site_checks import assert_conversation_intact, assert_loadguard_frames, limit_payload

REACTION = 2.0
RECONNECT_TIMEOUT = 30.0  # LoadGuard's upstream reconnects with backoff; the first tries come within seconds
TWO = tuple(c for c in DEFAULT_CHARGERS if c.id in ("CP-A16", "CP-B201"))  # one 1.6, one 2.0.1 charger

pytestmark = pytest.mark.timeout(120)

CSMS_INTERFERENCE = [
    pytest.param("CP-A16", "ClearChargingProfile", {}, id="1.6-clear-everything"),
    pytest.param("CP-A16", "SetChargingProfile", limit_payload("1.6", 32, 9001, 1), id="1.6-replaced-same-stack-level"),
    pytest.param("CP-A16", "SetChargingProfile", limit_payload("1.6", 32, 9001, 5), id="1.6-overridden-higher-stack"),
    pytest.param(
        "CP-B201",
        "ClearChargingProfile",
        {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile"}},
        id="2.0.1-clear-station-max",
    ),
    pytest.param(
        "CP-B201", "SetChargingProfile", limit_payload("2.0.1", 32, 9001, 1), id="2.0.1-replaced-same-stack-level"
    ),
    pytest.param(
        "CP-B201", "SetChargingProfile", limit_payload("2.0.1", 32, 9001, 5), id="2.0.1-overridden-higher-stack"
    ),
]


@pytest.mark.parametrize("charger_id, action, payload", CSMS_INTERFERENCE)
async def test_csms_profile_change_is_answered_by_loadguards_limit_within_2_s(lab, charger_id, action, payload):
    site = await start_site(lab, chargers=TWO)
    await site.wait_all_limited(minimum=IEC_MINIMUM, timeout=20)
    charger = site.chargers[charger_id]
    held = charger.loadguard_limit
    assert held is not None and charger.limit == held

    upstream = site.csms.sessions_of(charger_id)[-1]
    sent = time.monotonic()
    answer = json.loads(await upstream.wire.call_raw(json.dumps([2, "csms-profile-1", action, payload])))
    answered = time.monotonic()
    assert answer == [3, "csms-profile-1", {"status": "Accepted"}], answer
    lifted = [c for c in charger.history if c.at >= sent and c.cause in ("clear", "set 9001") and c.limit > held]
    assert lifted, f"scenario: the CSMS's {action} should have lifted LoadGuard's limit\n{site.timeline(sent)}"

    await site.wait(
        lambda: charger.loadguard_limit is not None and charger.limit == charger.loadguard_limit <= held + 1e-9,
        REACTION,
        f"{charger_id} bound by LoadGuard's limit (at most {held} A) again after the CSMS's {action} "
        f"{json.dumps(payload)}",
    )
    took = time.monotonic() - answered
    print(f"{charger_id}: LoadGuard's limit back {took:.2f} s after the CSMS's {action} was answered")
    # An installer can read in the log what happened to which charger.
    lines = site.loadguard.log_path.read_text().splitlines()
    told = [line for line in lines if f"charger.id={charger_id}" in line and "CSMS" in line and "profile" in line]
    assert told, f"no log line says that the CSMS changed {charger_id}'s profile\n{site.loadguard.log_tail()}"
    assert assert_loadguard_frames(site) >= 2 * len(site.chargers) + 1
    for each in site.chargers.values():
        await assert_conversation_intact(site, each)


async def test_charger_that_reconnects_gets_its_limit_installed_again(lab):
    site = await start_site(lab)
    await site.wait_all_limited(minimum=IEC_MINIMUM, timeout=20)
    old = site.chargers["CP-B201"]
    await old.close()
    await site.api.poll(
        "/api/v1/chargers",
        lambda body: not next(v for v in body if v["id"] == "CP-B201")["connected"],
        timeout=5,
        what="CP-B201 shown as disconnected",
    )
    # While it is away, what it may still draw stays reserved for it.
    allocation = await site.api.get("/api/v1/allocation")
    away = next(entry for entry in allocation["chargers"] if entry["id"] == "CP-B201")
    assert away["offline"] and away["reason"] in ("offline_reserved", "offline_assumed_maximum"), away
    assert away["current"] >= old.limit - 1e-9, f"{away} reserves less than the {old.limit} A it was allowed"

    connected = time.monotonic()
    new = await site.connect("CP-B201")  # it rebooted and kept no profile: it would draw its maximum
    await site.wait(
        lambda: new.loadguard_limit is not None, REACTION, "LoadGuard's limit on CP-B201 after it reconnected"
    )
    after_connect = time.monotonic() - connected
    await site.api.poll(
        "/api/v1/chargers",
        lambda body: next(v for v in body if v["id"] == "CP-B201")["limit_installed"],
        timeout=3,
        what="LoadGuard to have the reconnected CP-B201's answer (limit_installed)",
    )
    # Then the charger boots (as after a restart with the car still plugged in): the limit goes out again.
    booted = time.monotonic()
    await new.resume(old)
    await site.wait(
        lambda: any(c.at > booted for c in new.history if c.cause == f"set {PROFILE_ID}"),
        REACTION,
        "LoadGuard's limit installed again after CP-B201's BootNotification",
    )
    await site.hold(lambda: not site.overloaded_phases(), 2.0, f"building + limits ≤ {site.spec.usable} A")
    assert new.draw >= IEC_MINIMUM, f"the car on CP-B201 charges again\n{site.describe()}\n{site.timeline(connected)}"
    view = await site.api.poll(
        "/api/v1/chargers",
        lambda body: next(v for v in body if v["id"] == "CP-B201")["limit_installed"],
        timeout=3,
        what="CP-B201's limit shown as installed",
    )
    mine = next(v for v in view if v["id"] == "CP-B201")
    assert mine["connected"] and mine["ocpp_version"] == "2.0.1", mine
    print(f"CP-B201: limit installed {after_connect:.2f} s after it reconnected, again after its boot")
    assert assert_loadguard_frames(site) > 0


async def test_limits_are_enforced_while_the_csms_is_down_and_traffic_flows_when_it_is_back(lab):
    site = await start_site(lab, building=(8.0, 6.0, 10.0))
    await site.wait_all_limited(minimum=IEC_MINIMUM, timeout=20)
    csms = site.csms
    first = {charger_id: csms.sessions_of(charger_id)[-1] for charger_id in site.chargers}
    await csms.kill()
    for session in first.values():
        await session.wire.wait_closed()
    await site.api.poll(
        "/api/v1/chargers",
        lambda body: all(v["upstream_connected"] is False for v in body),
        timeout=5,
        what="every charger shown without its CSMS connection",
    )

    # A grid operator's command while the CSMS is down takes effect as ever.
    dso = 30.0
    await site.api.ok("POST", "/api/v1/limits", {"source": "dso", "max_current": dso, "expires_after": 60})
    await site.wait(
        lambda: not site.overloaded_phases(usable=dso - site.spec.margin),
        REACTION,
        f"building + limits ≤ {dso - site.spec.margin} A with the CSMS down",
    )
    await site.hold(lambda: not site.overloaded_phases(usable=dso - site.spec.margin), 2.0, "the DSO's limit held")
    assert not any(c.wire.closed.is_set() for c in site.chargers.values()), "chargers must stay connected"

    back = time.monotonic()
    await csms.start()
    for charger_id, charger in site.chargers.items():
        session = await csms.wait_session(charger_id, count=2, timeout=RECONNECT_TIMEOUT)
        live = lambda: any(  # noqa: E731 - a condition re-checked on every frame
            f.at > back and f.action in ("MeterValues", "TransactionEvent") and f.text in session.wire.received()
            for f in charger.wire.sent_frames()
        )
        await session.wire.wait_for(live, timeout=15, what=f"{charger_id}'s live meter values at the CSMS")
        answer = await session.call(sessions.configuration_read(charger.version, "HeartbeatInterval"))
        assert sessions.configuration_key_of(charger.version, answer) == "HeartbeatInterval"
    assert assert_loadguard_frames(site) > 0


async def test_loadguard_frames_are_schema_valid_and_their_results_never_reach_the_csms(lab):
    site = await start_site(lab, building=(8.0, 6.0, 10.0))
    await site.wait_all_limited(minimum=IEC_MINIMUM, timeout=20)
    csms = site.csms

    async def csms_reads(charger_id: str) -> None:
        charger = site.chargers[charger_id]
        for _ in range(3):
            answer = await csms.sessions_of(charger_id)[-1].call(
                sessions.configuration_read(charger.version, "HeartbeatInterval")
            )
            assert sessions.configuration_key_of(charger.version, answer) == "HeartbeatInterval"

    # The CSMS talks to every charger while LoadGuard changes every limit: 4.2 kW (pattern 01) is less
    # than the building takes, so every car pauses.
    await asyncio.gather(site.api.set_pattern("01"), *(csms_reads(i) for i in site.chargers))
    await site.wait(
        lambda: all(c.loadguard_limit == 0 for c in site.chargers.values()),
        REACTION,
        "every charger paused under pattern 01 (4.2 kW, less than the building load)",
    )
    await asyncio.gather(*(csms_reads(i) for i in site.chargers))

    count = assert_loadguard_frames(site)
    assert count >= 3 * len(site.chargers), f"only {count} calls from LoadGuard"
    for charger in site.chargers.values():
        await assert_conversation_intact(site, charger)
    # The other way round: everything the trace shows LoadGuard sending reached a charger as traced.
    received = {(c.id, f.text) for c in site.connections for f in c.wire.received_frames()}
    for record in site.loadguard.trace():
        if record["origin"] == "loadguard":
            assert record["direction"] == "to_charger" and record["action"] == "SetChargingProfile", record
            assert (record["charger"], record["frame"]) in received, record
