"""A secret file that is not UTF-8 is a clear config error naming the key and the file, exit 2,
never a traceback and never the secret's bytes (issue 10, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.config import render_config

SECRET = "pa\u00dfwort-t0ken".encode("latin-1")  # latin-1, so the "ß" is not UTF-8


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def config_with_secret_file(tmp_path: Path, name: str) -> Path:
    config = tmp_path / "pmhub.toml"
    config.write_text(render_config(
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={"left": {"plugin": "reference", "path": {"file": name}},
                     "right": {"plugin": "reference", "path": "memory:right"}},
        flows=[{"name": "main", "a": {"connection": "left", "scope": "proj"},
                "b": {"connection": "right", "scope": "proj"}}]), encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [["check", "--offline"], ["sync", "-q"]])
def test_a_secret_file_that_is_not_utf8_names_the_key_and_file(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "secret.txt").write_bytes(SECRET)
    config = config_with_secret_file(tmp_path, "secret.txt")

    result = run(*command, "--config", str(config))

    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {config}: connections.left.path: secret file ")
    assert str(tmp_path / "secret.txt") in line and "is not UTF-8 text" in line
    assert "t0ken" not in result.output and "\\xdf" not in result.output


def test_a_byte_order_mark_is_not_part_of_the_secret(tmp_path: Path) -> None:
    store = tmp_path / "left.sqlite"
    (tmp_path / "secret.txt").write_text(f"{store}\n", encoding="utf-8-sig")
    config = config_with_secret_file(tmp_path, "secret.txt")

    result = run("check", "--config", str(config))

    assert result.exit_code == 0, result.output
    assert f"connection left: ok (reference store {store})" in result.output


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "pmhub.toml"
    config.write_bytes(b'[state]\nurl = "sqlite:///caf\xe9.db"\n')

    result = run("check", "--offline", "--config", str(config))

    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"error: {config}: not UTF-8 text (the byte at offset 28 cannot be decoded); save it as UTF-8"]
