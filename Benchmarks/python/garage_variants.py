"""How the allocator does beyond the one shipped garage: variants of a scenario with arrivals and
departures moved, other energies and reaction delays, each run through `loadguard simulate`.

    .venv/bin/python Benchmarks/python/garage_variants.py [--count 12] [--scenario FILE] [--bin PATH]

Prints one line per variant (headroom used when scarce, most limits per charger-hour in steady state,
overload) and the spread against the issue's targets (headroom >= 0.95, <= 6 limits per
charger-hour). Variants are seeded, so a run is repeatable.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNITS = {"h": 3600, "m": 60, "s": 1}


def seconds(text: object) -> int:
    parts = re.findall(r"(\d+)([hms]?)", str(text))
    return sum(int(number) * UNITS[unit or "s"] for number, unit in parts)


def variant(base: dict, seed: int) -> dict:
    rng = random.Random(seed)
    scenario = json.loads(json.dumps(base))
    scenario["name"] = f"{base.get('name', 'scenario')}-v{seed}"
    duration = seconds(scenario["duration"])
    for ev in scenario["evs"]:
        arrive = max(0, seconds(ev.get("arrive", 0)) + rng.randint(-1200, 1200))
        depart = seconds(ev.get("depart", duration)) + rng.randint(-1200, 1200)
        depart = min(duration, max(arrive + 3600, depart))
        ev["arrive"], ev["depart"] = f"{arrive}s", f"{depart}s"
        ev["energy_wh"] = rng.choice([10000, 15000, 20000, 30000, 40000])
        ev["reaction_delay"] = f"{rng.randint(2, 5)}s"
    return scenario


def simulate(binary: pathlib.Path, scenario: dict, directory: pathlib.Path) -> dict:
    path = directory / f"{scenario['name']}.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    result = subprocess.run(
        [str(binary), "simulate", "--scenario", str(path), "--json"], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--scenario", type=pathlib.Path, default=ROOT / "Examples/scenarios/garage-250a.yaml")
    parser.add_argument("--bin", type=pathlib.Path, default=ROOT / ".build/release/loadguard")
    args = parser.parse_args()
    if not args.bin.exists():
        print(f"{args.bin} not found: build it with `swift build -c release --product loadguard`", file=sys.stderr)
        return 2
    base = yaml.safe_load(args.scenario.read_text())
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for seed in range(-1, args.count):
            scenario = base if seed < 0 else variant(base, seed)
            summary = simulate(args.bin, scenario, pathlib.Path(directory))
            headroom = summary["headroom_used_scarce"]
            steady = summary["limit_messages"]["max_per_charger_per_hour_steady"]
            overload = summary["overload_amp_seconds"]
            rows.append((headroom, steady, overload))
            name = "shipped" if seed < 0 else f"variant {seed}"
            print(f"{name:>11}: headroom used {headroom:.4f}, {steady} limits/charger-hour, overload {overload} A·s")
    headrooms = [row[0] for row in rows]
    steadies = [row[1] for row in rows]
    print(
        f"headroom {min(headrooms):.3f}–{max(headrooms):.3f} (median {statistics.median(headrooms):.3f}, "
        f"{sum(h < 0.95 for h in headrooms)} of {len(rows)} below 0.95); "
        f"limits/charger-hour {min(steadies)}–{max(steadies)} (median {statistics.median(steadies):.0f}, "
        f"{sum(s > 6 for s in steadies)} of {len(rows)} above 6); "
        f"overload in {sum(row[2] > 0 for row in rows)} of {len(rows)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
