"""``loadguard check-config``: valid files pass; errors name the file, the line and the key."""

from __future__ import annotations

import re
import subprocess

from support.loadguard import make_config, require_binary, to_yaml


def check_config(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(require_binary()), "check-config", str(path)], capture_output=True, text=True, timeout=60
    )


def write_config(tmp_path, name: str, config: dict) -> tuple:
    path = tmp_path / name
    text = to_yaml(config) + "\n"
    path.write_text(text)
    return path, text.splitlines()


def line_of(lines: list[str], key: str) -> int:
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"{key}:"))


def test_check_config_accepts_a_valid_file(tmp_path):
    path, _ = write_config(
        tmp_path,
        "good.yaml",
        make_config(tmp_path, upstream="ws://127.0.0.1:9/ocpp", chargers=[{"id": "CP-1", "password": "pw"}]),
    )

    result = check_config(path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_config_names_file_line_and_key_of_a_wrong_value(tmp_path):
    config = make_config(tmp_path, upstream="ws://127.0.0.1:9/ocpp")
    config["ocpp"]["call_timeout"] = "soon"
    path, lines = write_config(tmp_path, "bad-timeout.yaml", config)

    result = check_config(path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "bad-timeout.yaml" in output, output
    assert "call_timeout" in output, output
    assert re.search(rf"\b{line_of(lines, 'call_timeout')}\b", output), output


def test_check_config_names_a_malformed_listen_address(tmp_path):
    config = make_config(tmp_path)
    config["ocpp"]["listen"] = "nowhere"
    path, lines = write_config(tmp_path, "bad-listen.yaml", config)

    result = check_config(path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "bad-listen.yaml" in output and "listen" in output, output
    assert re.search(rf"\b{line_of(lines, 'listen')}\b", output), output


def test_check_config_names_a_missing_file(tmp_path):
    result = check_config(tmp_path / "absent.yaml")

    assert result.returncode != 0
    assert "absent.yaml" in result.stdout + result.stderr
