"""A plain (non-editable) install carries the built-in plugins and the default mappings."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_plugins_mappings_migrations_and_entry_points(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("pmhub-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for plugin in ("github", "jira", "trello", "zoho_crm", "reference"):
        assert f"pmhub_plugins/{plugin}/__init__.py" in names
    for plugin in ("github", "jira", "trello", "zoho_crm"):
        # The stand-ins are subpackages; a wheel without them could not serve `pmhub sandbox`.
        assert f"pmhub_plugins/{plugin}/sandbox/__init__.py" in names
        assert f"pmhub_plugins/{plugin}/sandbox/routes.py" in names
    assert "hub/testing/reference/connector.py" in names
    assert "pmhub_mappings/github-jira.toml" in names
    assert "hub/state/migrations/versions/0001_initial_schema.py" in names
    assert "hub/state/migrations/script.py.mako" in names
    assert not any(name.startswith("plugins/") for name in names), "no top-level 'plugins' package"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pmhub]" in text and "github = pmhub_plugins.github" in text and "pmhub = hub.cli:main" in text
