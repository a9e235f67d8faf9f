"""The status page in a real headless browser (Debian's chromium through Playwright): the flow with
its runs, a parked record with its reason and an open conflict, readable on a phone's width."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.browser import CHROMIUM, LAUNCH_ARGS, needs_chromium
from tests.service.support import ServedHub

pytestmark = [pytest.mark.slow, needs_chromium]


def _sync(hub: ServedHub) -> None:
    CliRunner().invoke(main, ["sync", "--quiet", "--config", str(hub.config)], catch_exceptions=False)


def test_the_status_page_shows_flows_a_parked_record_and_a_conflict(tmp_path: Path,
                                                                   sandbox: SandboxClient) -> None:
    from playwright.sync_api import sync_playwright

    hub = ServedHub(tmp_path, sandbox, flow={"conflict": "manual"})
    try:
        hub.repo.create_issue("Title both sides edit")
        _sync(hub)
        [twin] = hub.jira_issues()
        hub.repo.get_issue(1).edit(title="Title as GitHub has it")
        twin.update(summary="Title as Jira has it")
        hub.repo.create_issue("Jira refuses this one")
        sandbox.fault("jira", method="POST", path=r"/rest/api/2/issue$", status=400, times=10)
        _sync(hub)  # the conflict opens; the refused create is parked
        sandbox.clear_faults()
        hub.start()

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
                external: list[str] = []
                page.on("request", lambda request: external.append(request.url)
                        if not request.url.startswith(hub.url) else None)
                page.goto(hub.url + "/")
                assert page.title() == "pmhub status"
                flow = page.locator("#flow-portal")
                assert "gh: acme/portal" in flow.inner_text() and "jira: PORT" in flow.inner_text()
                assert flow.locator("tr").count() >= 3, "the two runs are listed"
                parked = page.locator("tr.parked")
                assert parked.count() == 1 and "issue" in parked.inner_text()
                assert "HTTP 400" in parked.inner_text(), "the reason is shown"
                conflict = page.locator("tr.conflict")
                assert conflict.count() == 1
                assert "Title as GitHub has it" in conflict.inner_text()
                assert "Title as Jira has it" in conflict.inner_text()
                assert page.locator("#deliveries-gh").is_visible()
                fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                assert fits, "the page needs no sideways scrolling on a phone"
                assert external == [], "no external assets"
                page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)
            finally:
                browser.close()
        artifacts = Path(__file__).resolve().parents[1] / "artifacts"
        if artifacts.is_dir():
            shutil.copy(tmp_path / "status-page.png", artifacts / "status-page.png")
    finally:
        hub.close()
