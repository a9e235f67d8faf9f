from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.state.store import StateStore
from tests.report.fixture_history import AS_OF, SINCE, History, build, make_config


class ReportHome:
    def __init__(self, home: Path, left: dict[str, Any] | None = None, left_scope: str = "proj",
                 state_url: str | None = None) -> None:
        self.home = home
        self.state_url = state_url or f"sqlite:///{home / 'state.db'}"
        self.config = make_config(home, self.state_url, left, left_scope)

    def fill(self) -> None:
        store = StateStore.open(self.state_url)
        try:
            build(History(store))
        finally:
            store.close()

    def report(self, *args: str, period: bool = True) -> Result:
        dates = ["--as-of", AS_OF, "--since", SINCE] if period else []
        return CliRunner().invoke(main, ["report", *dates, *args, "--config", str(self.config)],
                                  catch_exceptions=False)


@pytest.fixture
def report_home(tmp_path: Path) -> Iterator[ReportHome]:
    home = ReportHome(tmp_path)
    home.fill()
    yield home


@pytest.fixture
def empty_home(tmp_path: Path) -> ReportHome:
    return ReportHome(tmp_path)
