#!/usr/bin/env python3
"""Regenerate the traces in Fixtures/ocpp-traces/ from real peers talking through LoadGuard.

For each OCPP version, a CSMS and a charger built on the PyPI ``ocpp`` library run one charging
session (boot, heartbeat, status, authorize, transaction start, meter values, transaction end)
through a LoadGuard started with ``trace:`` on; LoadGuard's trace is then copied to
``Fixtures/ocpp-traces/ocpp<version>_session.jsonl``. Message ids are sequential
(``cp-1``, ``csms-1``, ...) so that regenerated files differ only in timestamps.

Usage (from the repository root, after ``swift build``)::

    .venv/bin/python interop/record_fixtures.py [--out DIR] [--version 1.6 --version 2.0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import shutil
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from support import schemas, sessions  # noqa: E402
from support.loadguard import REPOSITORY, LoadGuard, binary_path, make_config  # noqa: E402
from support.peers import Csms, connect_charger, sequential_ids  # noqa: E402

FIXTURES = REPOSITORY / "Fixtures" / "ocpp-traces"
FILE_NAMES = {"1.6": "ocpp16_session.jsonl", "2.0.1": "ocpp201_session.jsonl", "2.1": "ocpp21_session.jsonl"}


async def record(version: str, workdir: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    binary = binary_path()
    if not binary.is_file():
        raise SystemExit(f"LoadGuard binary not found at {binary}: run `swift build` first (or set LOADGUARD_BIN)")
    csms = Csms()
    await csms.start()
    name = f"record-{version}"
    loadguard = LoadGuard(binary, workdir, make_config(workdir, upstream=csms.url, name=name), name)
    await loadguard.start()
    try:
        charger = await connect_charger(loadguard.url, "CP-1", [schemas.SUBPROTOCOL[version]], run=False)
        charger.cp._unique_id_generator = sequential_ids("cp")
        charger.run()
        upstream = await csms.wait_session("CP-1")
        upstream.cp._unique_id_generator = sequential_ids("csms")
        await sessions.session(charger)
        await charger.close()
        await upstream.wire.wait_closed()
        problems = charger.wire.problems + upstream.wire.problems
        if problems:
            raise SystemExit("the peers saw invalid frames:\n" + "\n".join(problems))
    finally:
        status = await loadguard.stop()
        await csms.stop()
    if status != 0:
        raise SystemExit(f"LoadGuard exited with {status}\n{loadguard.log_tail()}")
    assert loadguard.trace_path is not None
    if not loadguard.trace_path.exists() or not loadguard.trace_path.read_text().strip():
        raise SystemExit(f"LoadGuard wrote no trace to {loadguard.trace_path}")
    target = out / FILE_NAMES[version]
    shutil.copyfile(loadguard.trace_path, target)
    return target


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=FIXTURES, help="directory for the .jsonl files")
    parser.add_argument("--version", action="append", choices=sorted(FILE_NAMES), help="default: all")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loadguard-fixtures-") as tmp:
        for version in args.version or ["1.6", "2.0.1", "2.1"]:
            workdir = pathlib.Path(tmp) / version
            workdir.mkdir()
            path = await record(version, workdir, args.out)
            print(f"wrote {path} ({len(path.read_text().splitlines())} frames)")


if __name__ == "__main__":
    asyncio.run(main())
