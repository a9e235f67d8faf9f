"""Shared fixtures: a work dir with its own data dir, config writing, running the CLI, state URLs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.config import render_config
from hub.testing.postgres import fresh_schema, libpq_dsn
from hub.testing.reference import ReferenceStore


def downgrade(engine: Any, revision: str) -> None:
    """Take a store's schema back to ``revision`` with Alembic, as an older pmhub left it."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from hub.state.store import MIGRATIONS

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


POSTGRES_URL = os.environ.get("PMHUB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the developer's real ~/.local/share/pmhub from a test.
    monkeypatch.setenv("PMHUB_DATA_DIR", str(tmp_path / "data"))


def postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(libpq_dsn(POSTGRES_URL), connect_timeout=3):
            return None
    except Exception as error:  # any failure to connect means: no server here
        from sqlalchemy.engine import make_url

        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        return f"no PostgreSQL at {where} ({error.__class__.__name__})"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The state store URL, once for SQLite and once for the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    reason = postgres_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI: {reason}")
        pytest.skip(reason)
    # A schema per test keeps tests independent on the shared database.
    with fresh_schema("t", url=POSTGRES_URL) as url:
        yield url


def write_config(path: Path, *, state_url: str | None, connections: dict[str, dict[str, Any]],
                 flows: list[dict[str, Any]], retry: dict[str, Any] | None = None) -> Path:
    # Tests keep the real retry policy but with short waits.
    retry = {"initial_delay": 0.01, "max_delay": 0.1, **(retry or {})}
    path.write_text(render_config(state_url=state_url, connections=connections, flows=flows,
                                  tables={"retry": retry}), encoding="utf-8")
    return path


class Pair:
    """Two reference tools (a and b) joined by one flow, and the CLI to sync them."""

    def __init__(self, tmp_path: Path, state_url: str, *, file_backed: bool = False, **flow: Any) -> None:
        tag = uuid.uuid4().hex[:8]
        self.paths = {side: (str(tmp_path / f"{side}.sqlite") if file_backed else f"memory:{side}-{tag}")
                      for side in ("a", "b")}
        self.a = ReferenceStore(self.paths["a"])
        self.b = ReferenceStore(self.paths["b"])
        self.state_url = state_url
        self.flow = {"name": "main", "a": {"connection": "left", "scope": "proj"},
                     "b": {"connection": "right", "scope": "proj"}, **flow}
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=state_url,
            connections={"left": {"plugin": "reference", "path": self.paths["a"]},
                         "right": {"plugin": "reference", "path": self.paths["b"]}},
            flows=[self.flow])

    def store(self, side: str) -> ReferenceStore:
        return self.a if side == "a" else self.b

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    def sync(self, *args: str, expect: int | None = 0) -> Result:
        result = self.cli("sync", "--quiet", *args)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    def close(self) -> None:
        self.a.close()
        self.b.close()


@pytest.fixture
def pair(tmp_path: Path, state_url: str) -> Iterator[Pair]:
    created = Pair(tmp_path, state_url)
    yield created
    created.close()


@pytest.fixture
def make_pair(tmp_path: Path) -> Iterator[Any]:
    made: list[Pair] = []

    def make(**flow: Any) -> Pair:
        home = tmp_path / f"p{len(made)}"
        home.mkdir()
        pair = Pair(home, f"sqlite:///{home / 'state.db'}", **flow)
        made.append(pair)
        return pair

    yield make
    for pair in made:
        pair.close()
