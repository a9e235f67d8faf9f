"""Debian's chromium for the tests that look at pages (the status page, reports) through Playwright.

Without the browser those tests skip with the reason, except under CI (``CI=true``), where
`.ci/run` installs it and a missing browser must fail rather than pass silently.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: The closed network refuses chromium's background connections; root needs --no-sandbox.
LAUNCH_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (apt-get install chromium)")
