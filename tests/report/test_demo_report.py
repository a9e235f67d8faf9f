"""`pmhub demo` ends by writing the busiest customer's progress report and printing its path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


@pytest.mark.slow
def test_the_demo_writes_a_report_from_the_state_it_synced(tmp_path: Path) -> None:
    from hub.demo import run_demo

    lines: list[str] = []
    run_demo(lines.append, keep_state=tmp_path / "kept")
    output = "\n".join(lines)
    found = re.search(r"Progress report for Acme Corp: 1/3 done, 3 opened and 1 closed in the last 14 days, "
                      r"health on track: (\S+\.html)", output)
    assert found, output
    report = Path(found.group(1))
    assert report.parent == (tmp_path / "kept").resolve()
    html = report.read_text(encoding="utf-8")
    assert "Acme Corp: Progress report" in html and "Login page times out" in html
    assert html.count("<svg") == 2
