"""A plain (non-editable) install carries the report's template and message catalogue."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_carries_the_report_template_and_catalogue(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = tmp_path.glob("pmhub-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hub/report/templates/report.html.j2" in names
    assert "hub/report/locale/zh_CN/LC_MESSAGES/report.po" in names
    assert "hub/state/migrations/versions/0005_issue_history.py" in names
