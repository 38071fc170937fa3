"""Running the LoadGuard binary for a test: config file, process, readiness, injected-call API, trace.

The binary is ``.build/debug/loadguard`` in the repository, or whatever ``LOADGUARD_BIN`` names.
A test gets a ``LoadGuard`` from the ``loadguard`` fixture, which stops every instance with SIGTERM
at the end of the test and fails the test unless LoadGuard exited 0 (graceful shutdown).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPOSITORY / ".build" / "debug" / "loadguard"
API_TOKEN = "interop-test-token"
READY_TIMEOUT = 20.0
# API requests block a thread each while LoadGuard waits for the charger; they get their own pool so
# that they never starve the default executor, which the ocpp library uses for schema validation.
_API_THREADS = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="loadguard-api")
STOP_TIMEOUT = 10.0


def binary_path() -> pathlib.Path:
    return pathlib.Path(os.environ.get("LOADGUARD_BIN", str(DEFAULT_BINARY)))


def require_binary() -> pathlib.Path:
    """The LoadGuard binary; fails the test loudly (never skips) when it is missing."""
    binary = binary_path()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        import pytest

        pytest.fail(
            f"LoadGuard binary not found at {binary}: build it with `swift build` in the repository "
            "(or point LOADGUARD_BIN at one)",
            pytrace=False,
        )
    return binary


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_yaml(value: Any, indent: int = 0) -> str:
    """YAML for nested dicts/lists of scalars; strings are written JSON-quoted (valid YAML)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if item is None:
                continue
            if isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                body = to_yaml(item, indent + 2)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value))


@dataclasses.dataclass
class ApiResponse:
    status: int
    body: Any
    text: str


class LoadGuard:
    """One LoadGuard process with its own config, ports and trace file."""

    def __init__(
        self,
        binary: pathlib.Path,
        workdir: pathlib.Path,
        config: dict[str, Any],
        name: str,
        args: list[str] | None = None,
    ) -> None:
        self.binary = binary
        self.args = list(args or [])
        self.workdir = workdir
        self.config = config
        self.name = name
        self.config_path = workdir / f"{name}.yaml"
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.failed_to_start = False
        listen = config["ocpp"]["listen"]
        self.port = int(listen.rsplit(":", 1)[1])
        self.api_port = int(config["api"]["listen"].rsplit(":", 1)[1])
        self.token = config["api"]["token"]
        self.path = config["ocpp"].get("path", "/ocpp")
        self.tls = config["ocpp"].get("tls") is not None

    @property
    def url(self) -> str:
        """The charger-facing base URL; a charger connects to ``<url>/<chargerId>``."""
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}{self.path}"

    @property
    def trace_path(self) -> pathlib.Path | None:
        trace = self.config["ocpp"].get("trace")
        return pathlib.Path(trace) if trace else None

    async def start(self) -> None:
        self.config_path.write_text(to_yaml(self.config) + "\n")
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "run", "--config", str(self.config_path), *self.args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=self.workdir,
        )
        log.close()
        try:
            await self._wait_ready()
        except BaseException:
            self.failed_to_start = True
            raise

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        pending = [self.port, self.api_port]
        while pending:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"LoadGuard exited with status {self.process.returncode} before it was ready\n{self.log_tail()}"
                )
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", pending[0]), 1.0)
                writer.close()
                await writer.wait_closed()
                pending.pop(0)
                continue
            except (OSError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"LoadGuard did not accept connections on port {pending[0]} within {READY_TIMEOUT}s\n"
                    f"{self.log_tail()}"
                )
            await asyncio.sleep(0.05)  # polling a port for readiness: nothing to await instead

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def stop(self) -> int | None:
        """SIGTERM and wait; returns the exit status (None if it never started)."""
        if self.process is None:
            return None
        if self.failed_to_start:
            if self.process.poll() is None:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
                raise AssertionError(
                    f"LoadGuard did not exit within {STOP_TIMEOUT}s of SIGTERM\n{self.log_tail()}"
                ) from None
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no LoadGuard log)"
        return "LoadGuard log (last lines):\n" + "\n".join(text[-lines:])

    def charger_url(self, charger_id: str) -> str:
        return f"{self.url}/{charger_id}"

    # -- injected calls ----------------------------------------------------------------------

    async def inject(
        self,
        charger_id: str,
        action: str,
        payload: dict[str, Any],
        timeout: float | None = 10,
        token: str | None = "default",
    ) -> ApiResponse:
        """``POST /api/v1/chargers/<id>/calls``; returns the HTTP status and the decoded JSON body."""
        body: dict[str, Any] = {"action": action, "payload": payload}
        if timeout is not None:
            body["timeout"] = timeout
        headers = {"Content-Type": "application/json"}
        token = self.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = f"http://127.0.0.1:{self.api_port}/api/v1/chargers/{charger_id}/calls"
        return await asyncio.get_running_loop().run_in_executor(
            _API_THREADS, _post, url, json.dumps(body).encode(), headers, (timeout or 10) + 10
        )

    # -- trace -------------------------------------------------------------------------------

    def trace(self) -> list[dict[str, Any]]:
        """The trace file's records (every line must be one JSON object)."""
        assert self.trace_path is not None, "this LoadGuard has no trace configured"
        if not self.trace_path.exists():
            return []
        records = []
        for number, line in enumerate(self.trace_path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise AssertionError(f"{self.trace_path}:{number}: not a JSON line ({error}): {line[:200]}") from None
            assert isinstance(record, dict), f"{self.trace_path}:{number}: not a JSON object"
            records.append(record)
        return records


def _post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> ApiResponse:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode(errors="replace")
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = None
    return ApiResponse(status, body, text)


def make_config(
    workdir: pathlib.Path,
    *,
    upstream: str | None = None,
    chargers: list[dict[str, Any]] | None = None,
    accept_unknown_chargers: bool = False,
    trace: bool = True,
    call_timeout: float = 10,
    tls: dict[str, str] | None = None,
    upstream_tls: dict[str, str] | None = None,
    name: str = "loadguard",
    load_management: bool = False,
) -> dict[str, Any]:
    """A LoadGuard config on free loopback ports (see the config contract in interop/README.md)."""
    ocpp: dict[str, Any] = {
        "listen": f"127.0.0.1:{free_port()}",
        "path": "/ocpp",
        "upstream": upstream,
        "accept_unknown_chargers": accept_unknown_chargers,
        "trace": str(workdir / f"{name}-trace.jsonl") if trace else None,
        "call_timeout": call_timeout,
        "tls": tls,
        "upstream_tls": upstream_tls,
    }
    return {
        "ocpp": ocpp,
        # The proxy's own tests run with load management off, so that LoadGuard's charging
        # profiles do not mix with the calls under test; the site tests turn it on.
        "site": {"load_management": load_management},
        "store": {"directory": str(workdir / f"{name}-data")},
        "api": {"listen": f"127.0.0.1:{free_port()}", "token": API_TOKEN},
        "chargers": chargers if chargers is not None else [{"id": "CP-1"}],
    }
