"""A relative SQLite state path is the config folder's, wherever pmhub runs from; `pmhub check`
and `pmhub status` say where the state is (issue 10, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.model import Issue
from hub.state.location import anchored
from hub.testing.reference import ReferenceStore
from tests.conftest import write_config


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_a_relative_state_url_is_the_config_folders_from_any_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = {name: tmp_path / name for name in ("A", "B", "C")}
    for folder in folders.values():
        folder.mkdir()
    a, b = (ReferenceStore(str(folders["A"] / f"{side}.sqlite")) for side in ("a", "b"))
    config = write_config(
        folders["A"] / "pmhub.toml", state_url="sqlite:///pmhub.db",
        connections={"left": {"plugin": "reference", "path": str(folders["A"] / "a.sqlite")},
                     "right": {"plugin": "reference", "path": str(folders["A"] / "b.sqlite")}},
        flows=[{"name": "main", "a": {"connection": "left", "scope": "proj"},
                "b": {"connection": "right", "scope": "proj"}, "records": ["issue"]}])
    a.put("proj", "issue", Issue(title="synced once"))

    monkeypatch.chdir(folders["B"])
    assert run("sync", "-q", "--config", str(config)).exit_code == 0
    assert (folders["A"] / "pmhub.db").is_file()
    assert list(folders["B"].iterdir()) == [], "nothing lands in the working directory"

    monkeypatch.chdir(folders["C"])
    again = run("sync", "-q", "--config", str(config))
    assert again.exit_code == 0 and "right: 0 created" in again.output, again.output
    assert b.count("proj", "issue") == 1, "the second run sees the first run's links"

    where = f"state sqlite:///{folders['A'] / 'pmhub.db'}"
    status = run("status", "--config", str(config))
    assert status.exit_code == 0 and status.output.splitlines()[0] == where
    check = run("check", "--offline", "--config", "../A/pmhub.toml")
    assert check.exit_code == 0 and where in check.output.splitlines()
    assert list(folders["C"].iterdir()) == []
    a.close()
    b.close()


def test_check_says_when_the_state_file_does_not_exist_yet_and_creates_nothing(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "pmhub.toml", state_url="sqlite:///state/pmhub.db",
        connections={"left": {"plugin": "reference", "path": "memory:left"},
                     "right": {"plugin": "reference", "path": "memory:right"}},
        flows=[{"name": "main", "a": {"connection": "left", "scope": "proj"},
                "b": {"connection": "right", "scope": "proj"}}])
    (tmp_path / "state").mkdir()

    check = run("check", "--offline", "--config", str(config))

    assert f"state sqlite:///{tmp_path / 'state' / 'pmhub.db'} (no file yet: the first sync creates it)" \
        in check.output.splitlines()
    assert list((tmp_path / "state").iterdir()) == []


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///pmhub.db", "sqlite:////base/pmhub.db"),
    ("sqlite:///../shared/state.db", "sqlite:////shared/state.db"),
    ("sqlite:////abs/state.db", "sqlite:////abs/state.db"),
    ("sqlite://", "sqlite://"),
    ("sqlite:///:memory:", "sqlite:///:memory:"),
    ("sqlite:///file:state.db?mode=ro&uri=true", "sqlite:///file:state.db?mode=ro&uri=true"),
    ("postgresql+psycopg://pmhub:s3cret@db:5432/pmhub", "postgresql+psycopg://pmhub:s3cret@db:5432/pmhub"),
])
def test_only_relative_sqlite_paths_are_anchored(url: str, expected: str) -> None:
    assert anchored(url, Path("/base")) == expected


def test_a_home_relative_sqlite_path_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert anchored("sqlite:///~/pmhub/state.db", Path("/base")) == f"sqlite:///{tmp_path}/pmhub/state.db"
