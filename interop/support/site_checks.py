"""What every end-to-end test of the site checks about the frames LoadGuard itself sent.

LoadGuard's own calls to a charger are the CALLs the charger received that no CSMS session sent.
For the ``max`` profile strategy they must all be ``SetChargingProfile`` with LoadGuard's profile:
1.6 ``ChargePointMaxProfile`` on connector 0, 2.0.1 ``ChargingStationMaxProfile`` on EVSE 0,
profile id 73840001, rate unit A, one period with ``limit`` and ``numberPhases`` (the charger's
phases), the limit 0 or between the charger's minimum and maximum. Each validates against the
official schema (the wire checks that too, as it arrives), appears in LoadGuard's trace with origin
``loadguard``, and the charger's answer to it never reaches the CSMS.
"""

from __future__ import annotations

import decimal
import json
from typing import Any

from . import schemas
from .checks import assert_same_frames
from .site import MAX_PURPOSE, PROFILE_ID, Site, SiteCharger
from .wire import Frame


def loadguard_calls(site: Site, charger: SiteCharger) -> list[Frame]:
    """The CALLs ``charger`` (one connection) received from LoadGuard rather than from the CSMS."""
    csms_ids: set[str] = set()
    if site.csms is not None:
        for session in site.csms.sessions_of(charger.id):
            csms_ids.update(f.id for f in session.wire.sent_frames() if f.type == schemas.CALL)
    return [f for f in charger.wire.received_frames() if f.type == schemas.CALL and f.id not in csms_ids]


def check_profile_call(charger: SiteCharger, frame: Frame) -> list[str]:
    """Problems with one of LoadGuard's calls to ``charger`` (empty: none)."""
    spec = charger.spec
    message = json.loads(frame.text, parse_float=decimal.Decimal)
    action, payload = message[2], message[3]
    where = f"{charger.id} received LoadGuard's {action} {frame.text[:400]}"
    if action != "SetChargingProfile":
        return [f"{where}: LoadGuard's only call with profile strategy max is SetChargingProfile"]
    problems: list[str] = []
    try:
        schemas.validate_payload(charger.version, action, "request", payload)
    except schemas.FrameProblem as problem:
        problems.append(f"{where}: {problem}")
    if charger.version == "1.6":
        outlet, profile = payload.get("connectorId"), payload.get("csChargingProfiles", {})
        profile_id, schedules = profile.get("chargingProfileId"), [profile.get("chargingSchedule", {})]
    else:
        outlet, profile = payload.get("evseId"), payload.get("chargingProfile", {})
        profile_id, schedules = profile.get("id"), profile.get("chargingSchedule", [])
    expected = {
        "outlet": 0,
        "profile id": PROFILE_ID,
        "purpose": MAX_PURPOSE[charger.version],
        "schedules": 1,
    }
    found = {
        "outlet": outlet,
        "profile id": profile_id,
        "purpose": profile.get("chargingProfilePurpose"),
        "schedules": len(schedules),
    }
    if expected != found:
        problems.append(f"{where}: expected {expected}, found {found}")
    if len(schedules) == 1:
        schedule = schedules[0]
        periods = schedule.get("chargingSchedulePeriod", [])
        if schedule.get("chargingRateUnit") != "A" or len(periods) != 1:
            problems.append(f"{where}: expected rate unit A and one period, found {schedule}")
        else:
            period = periods[0]
            limit = float(period.get("limit", -1))
            if period.get("numberPhases") != spec.phases:
                problems.append(f"{where}: numberPhases {period.get('numberPhases')} for a {spec.phases}-phase charger")
            if period.get("startPeriod") != 0:
                problems.append(f"{where}: the period starts at {period.get('startPeriod')}, expected 0")
            if not (limit == 0 or spec.min_current - 1e-9 <= limit <= spec.max_current + 1e-9):
                problems.append(
                    f"{where}: limit {limit} A is neither 0 (paused) nor within the charger's "
                    f"{spec.min_current}–{spec.max_current} A"
                )
    return problems


def assert_loadguard_frames(site: Site) -> int:
    """Check every call LoadGuard sent to every charger (see module doc); returns how many there were."""
    problems: list[str] = []
    count = 0
    # LoadGuard may use the same message ids again on a charger's next connection: match the raw text.
    traced: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in site.loadguard.trace():
        if record.get("origin") == "loadguard" and record.get("type") == 2:
            traced.setdefault((record.get("charger"), record.get("id")), []).append(record)
    for charger in site.connections:
        calls = loadguard_calls(site, charger)
        count += len(calls)
        ids = {f.id for f in calls}
        for frame in calls:
            problems.extend(check_profile_call(charger, frame))
            records = traced.get((charger.id, frame.id), [])
            if not any(r.get("frame") == frame.text and r.get("direction") == "to_charger" for r in records):
                problems.append(
                    f"{charger.id}: LoadGuard's call {frame.text[:200]} is not in the trace as sent to the charger "
                    f"with origin loadguard (records with its id: {records})"
                )
        if site.csms is not None:
            for session in site.csms.sessions_of(charger.id):
                leaked = [f.text for f in session.wire.received_frames() if f.id in ids]
                if leaked:
                    problems.append(f"{charger.id}: the CSMS received answers to LoadGuard's calls: {leaked[:3]}")
    assert not problems, "\n".join(problems[:20])
    return count


async def assert_conversation_intact(site: Site, charger: SiteCharger) -> None:
    """The charger's conversation with the CSMS (one session) passed LoadGuard unchanged both ways.

    Calls and answers are compared as two streams per direction: LoadGuard keeps each stream in order
    but may hold a CSMS call behind one of its own calls in flight (one call in flight per direction),
    while answers pass at once. Stops the charger's car first, so that nothing is in flight when the
    two sides are compared.
    """
    assert site.csms is not None
    await charger.stop_car()
    sessions = site.csms.sessions_of(charger.id)
    assert len(sessions) == 1, f"{charger.id}: expected one CSMS session, found {len(sessions)}"
    upstream = sessions[0]
    own = {f.id for f in loadguard_calls(site, charger)}
    to_csms = [f for f in charger.wire.sent_frames() if not (f.type in (3, 4) and f.id in own)]
    await upstream.wire.wait_for(
        lambda: len(upstream.wire.received()) >= len(to_csms), timeout=5, what=f"{charger.id}'s last frames"
    )
    to_charger = [f for f in charger.wire.received_frames() if not (f.type == 2 and f.id in own)]
    for kinds, name in (((2,), "calls"), ((3, 4), "answers")):
        assert_same_frames(
            [f.text for f in to_csms if f.type in kinds],
            [f.text for f in upstream.wire.received_frames() if f.type in kinds],
            f"{charger.id} -> CSMS ({name})",
        )
        assert_same_frames(
            [f.text for f in upstream.wire.sent_frames() if f.type in kinds],
            [f.text for f in to_charger if f.type in kinds],
            f"CSMS -> {charger.id} ({name})",
        )
    assert len(to_csms) == len(upstream.wire.received()), f"{charger.id}: frames other than calls and answers"


def limit_payload(version: str, limit: float, profile_id: int, stack_level: int) -> dict[str, Any]:
    """A CSMS's own whole-charger limit (wire form): the purpose LoadGuard uses, another id."""
    period = {"startPeriod": 0, "limit": limit, "numberPhases": 3}
    if version == "1.6":
        return {
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": profile_id,
                "stackLevel": stack_level,
                "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]},
            },
        }
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2025-01-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [period],
                }
            ],
        },
    }
