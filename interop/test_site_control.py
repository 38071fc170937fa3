"""The site controller end to end: the building's load, ripple control and API commands drive the limits.

Four chargers (two OCPP 1.6, two 2.0.1; one single-phase on grid L2) with cars that follow their
limits charge through LoadGuard, which measures the grid with its simulated meter (building load set
through the API plus what the chargers report) and tells each charger its limit as a charging
profile. A CSMS sits upstream. Each test first waits for LoadGuard's second, paced step (every car
then charges above its minimum: the first limit goes out when a charger connects, increases follow
at most once per 10 s), then changes one input and checks what the chargers hold.
"""

from __future__ import annotations

import time

import pytest

from support.site import Site, SiteCharger, start_site
from support.site_checks import assert_conversation_intact, assert_loadguard_frames

REACTION = 2.0  # a lower limit must be on every affected charger this soon after the change
SETTLE = 10.0  # LoadGuard's settle time: at most one increase per charger per 10 s
CLOCKS = 0.5  # slack between LoadGuard's clock and the test's for pacing checks
RUNNING = 8.0  # every car charges above this before a test changes anything (LoadGuard's second step)

pytestmark = pytest.mark.timeout(150)


def last_loadguard_change(charger: SiteCharger) -> float:
    """When LoadGuard's own profile on the charger last changed value."""
    changes = charger.loadguard_limits_since(0)
    assert changes, f"{charger.id} never held a LoadGuard limit"
    return changes[-1].at


async def wait_rise(site: Site, since: float, floor: dict[str, float], count: int, timeout: float) -> None:
    """Wait until every charger has had ``count`` increases of LoadGuard's limit after ``since``."""

    def risen() -> bool:
        return all(
            len([c for c in charger.loadguard_limits_since(since) if c.limit > floor[charger.id]]) >= count
            for charger in site.chargers.values()
        )

    await site.wait(risen, timeout, f"increase #{count} of every charger's limit")


async def wait_effective_limit(site: Site, source: str, current: float) -> None:
    """Wait until LoadGuard's allocation shows ``current`` A from ``source`` as every phase's effective limit."""
    await site.api.poll(
        "/api/v1/allocation",
        lambda body: all(
            entry["source"]["kind"] == source and abs(entry["current"] - current) < 0.01
            for entry in body["effective_limit"]
        ),
        timeout=5,
        what=f"every phase's effective limit to be {current} A from {source}",
    )


def assert_fair(site: Site, usable: float, since: float) -> None:
    """No car paused for nothing: each charger holds at least its fair share under ``usable`` − 1 A (deadband)."""
    fair = site.fair_shares(usable=usable)
    short = {
        i: (round(c.limit, 2), round(fair[i], 2)) for i, c in site.chargers.items() if c.limit < fair[i] - 1.0 - 1e-9
    }
    assert not short, (
        f"chargers held below their fair share (limit, fair share) under {usable:.1f} A per phase: {short}\n"
        f"{site.describe()}\n{site.timeline(since)}\n{site.loadguard.log_tail(30)}"
    )


def assert_paced(
    site: Site, since: float, lowered: dict[str, float], lowered_at: dict[str, float], target: dict[str, float]
) -> list[str]:
    """Increases after ``since``: none within 10 s of the previous limit, each at most half the remaining gap."""
    report = []
    for charger_id, charger in site.chargers.items():
        rises = [c for c in charger.loadguard_limits_since(since) if c.limit > lowered[charger_id]]
        previous_limit, previous_at = lowered[charger_id], lowered_at[charger_id]
        for rise in rises[:2]:
            gap = target[charger_id] - previous_limit
            report.append(
                f"{charger_id}: {previous_limit:.2f} -> {rise.limit:.2f} A after {rise.at - previous_at:.1f} s "
                f"(target {target[charger_id]:.2f} A)"
            )
            assert rise.at - previous_at >= SETTLE - CLOCKS, (
                f"{charger_id}: increase {previous_limit} -> {rise.limit} A only {rise.at - previous_at:.2f} s after "
                f"the previous limit (LoadGuard sends at most one increase per {SETTLE:.0f} s)\n" + "\n".join(report)
            )
            assert rise.limit <= previous_limit + gap / 2 + 0.3, (
                f"{charger_id}: increase {previous_limit} -> {rise.limit} A closes more than half the gap to "
                f"{target[charger_id]} A\n" + "\n".join(report)
            )
            previous_limit, previous_at = rise.limit, rise.at
    return report


async def test_raised_building_load_lowers_every_affected_charger_within_2_s(lab):
    site = await start_site(lab, building=(20.0, 15.0, 25.0))
    await site.wait_all_limited(minimum=RUNNING, timeout=35)
    before = site.limits()
    raised = (32.0, 30.0, 38.0)
    overloaded = site.overloaded_phases(building=raised)
    affected = {i for i, spec in site.specs.items() if set(spec.grid_phases()) & set(overloaded)}
    assert affected == set(site.specs), f"scenario: every charger should be on an overloaded phase {overloaded}"

    at = await site.set_building(*raised)
    await site.wait(
        lambda: all(site.chargers[i].limit < before[i] for i in affected) and not site.overloaded_phases(),
        REACTION,
        f"a lower limit on every charger on grid phases {[f'L{p + 1}' for p in overloaded]} and "
        f"building + limits ≤ {site.spec.usable} A on every phase",
    )
    took = time.monotonic() - at
    # It stays so while LoadGuard's meter readings catch up with the new load, and no car is cut
    # further than the fuse requires.
    await site.hold(lambda: not site.overloaded_phases(), 3.0, f"building + limits ≤ {site.spec.usable} A")
    assert_fair(site, site.spec.usable, at)

    # LoadGuard's own view agrees with the chargers'.
    allocation = await site.api.get("/api/v1/allocation")
    measured = [allocation["building_load"][key] for key in ("l1", "l2", "l3")]
    assert all(abs(m - r) < 1.0 for m, r in zip(measured, raised)), f"building load {measured}, set {raised}"
    views = await site.api.poll(
        "/api/v1/chargers",
        lambda body: all(
            v["limit_installed"] and v["limit"] is not None and abs(v["limit"] - site.chargers[v["id"]].limit) < 0.01
            for v in body
        ),
        timeout=3,
        what="GET /api/v1/chargers to show the limits the chargers hold as installed",
    )
    assert {v["id"]: v["connected"] for v in views} == {i: True for i in site.specs}
    print(f"building load raised: every affected charger lowered {took:.2f} s after the API answered")

    assert assert_loadguard_frames(site) >= 3 * len(site.specs)
    for charger in site.chargers.values():
        await assert_conversation_intact(site, charger)


async def test_ripple_control_lowers_limits_within_2_s_and_normal_raises_them_paced(lab):
    site = await start_site(lab, building=(8.0, 6.0, 10.0))
    await site.wait_all_limited(minimum=RUNNING, timeout=35)
    before = site.limits()
    level = 0.6 * site.spec.fuse  # pattern 10 -> 60 % of the fuse
    usable = level - site.spec.margin

    at = time.monotonic()
    state = await site.api.set_pattern("10")
    assert (state["pattern"], state["level"], state["input1"], state["input2"]) == ("10", "60%", True, False)
    await site.wait(
        lambda: all(c.limit < before[i] for i, c in site.chargers.items())
        and not site.overloaded_phases(usable=usable),
        REACTION,
        f"every charger lowered and building + limits ≤ {usable:.1f} A (60 % of the fuse − margin)",
    )
    took = time.monotonic() - at
    await wait_effective_limit(site, "ripple_control", level)
    assert (await site.api.get("/api/v1/inputs"))["pattern"] == "10"
    assert (await site.api.get("/api/v1/status"))["ripple"]["level"] == "60%"
    log = site.loadguard.log_path.read_text()
    assert "Ripple-control level changed" in log and "grid.power.before.w" in log, site.loadguard.log_tail()
    await site.hold(lambda: not site.overloaded_phases(usable=usable), 3.0, "building + limits within the 60 % level")
    assert_fair(site, usable, at)

    lowered = site.limits()
    lowered_at = {i: last_loadguard_change(c) for i, c in site.chargers.items()}
    restored = time.monotonic()
    state = await site.api.set_pattern("00")
    assert (state["pattern"], state["level"]) == ("00", "100%")
    await wait_effective_limit(site, "fuse", site.spec.fuse)
    target = site.fair_shares()
    assert all(target[i] > lowered[i] + 2 for i in site.specs), f"scenario: room to rise {target} vs {lowered}"
    await wait_rise(site, restored, lowered, count=1, timeout=SETTLE + 4)
    await wait_rise(site, restored, lowered, count=2, timeout=SETTLE + 4)
    report = assert_paced(site, restored, lowered, lowered_at, target)
    print(f"ripple 10: every charger lowered {took:.2f} s after the API answered; back to 00:\n" + "\n".join(report))

    # Pattern 11 means 0 %: every car pauses, at once.
    await site.api.set_pattern("11")
    await site.wait(
        lambda: all(c.loadguard_limit == 0 and c.draw == 0 for c in site.chargers.values()),
        REACTION,
        "every charger paused (limit 0) under pattern 11 (0 %)",
    )
    assert assert_loadguard_frames(site) > 0


async def test_api_limit_applies_at_once_and_is_released_when_it_expires(lab):
    site = await start_site(lab, building=(8.0, 6.0, 10.0))
    await site.wait_all_limited(minimum=RUNNING, timeout=35)
    before = site.limits()
    dso = 40.0

    at = time.monotonic()
    stored = await site.api.ok("POST", "/api/v1/limits", {"source": "dso", "max_current": dso, "expires_after": 6})
    assert stored["source"] == "dso" and abs(stored["current"] - dso) < 1e-9, stored
    assert 5 < stored["expires_in"] <= 6, stored
    await site.wait(
        lambda: all(c.limit < before[i] for i, c in site.chargers.items())
        and not site.overloaded_phases(usable=dso - site.spec.margin),
        REACTION,
        f"every charger lowered and building + limits ≤ {dso - site.spec.margin} A (the DSO's {dso} A − margin)",
    )
    took = time.monotonic() - at
    await wait_effective_limit(site, "api_command", dso)
    await site.hold(
        lambda: not site.overloaded_phases(usable=dso - site.spec.margin), 3.0, f"building + limits ≤ {dso - 2} A"
    )
    assert_fair(site, dso - site.spec.margin, at)

    # Several commands at once: the lowest wins; each can be removed by its source.
    await site.api.ok("POST", "/api/v1/limits", {"source": "ems", "max_current": 45})
    listed = {entry["source"]: entry for entry in await site.api.get("/api/v1/limits")}
    assert set(listed) == {"dso", "ems"}, listed
    assert 110 < listed["ems"]["expires_in"] <= 120, f"default expiry is 120 s: {listed['ems']}"
    allocation = await site.api.get("/api/v1/allocation")
    assert all(abs(entry["current"] - dso) < 0.01 for entry in allocation["effective_limit"]), allocation
    assert (await site.api.request("DELETE", "/api/v1/limits/ems")).status == 204
    again = await site.api.request("DELETE", "/api/v1/limits/ems")
    assert again.status == 404 and "ems" in again.body["error"]["message"], again.text

    # The DSO's command expires: it is gone from the list, the fuse binds again, limits rise (paced).
    lowered = site.limits()
    lowered_at = {i: last_loadguard_change(c) for i, c in site.chargers.items()}
    await site.api.poll("/api/v1/limits", lambda body: body == [], timeout=8, what="the DSO's command to expire")
    expired = time.monotonic()
    await wait_effective_limit(site, "fuse", site.spec.fuse)
    target = site.fair_shares()
    await wait_rise(site, expired - 1, lowered, count=1, timeout=SETTLE + 4)
    report = assert_paced(site, expired - 1, lowered, lowered_at, target)
    print(f"API limit: every charger lowered {took:.2f} s after the API answered; after expiry:\n" + "\n".join(report))
    log = site.loadguard.log_path.read_text()
    assert "Load-reduction command" in log, site.loadguard.log_tail()
    assert assert_loadguard_frames(site) > 0
    assert all(c.loadguard_limit is not None for c in site.chargers.values())
