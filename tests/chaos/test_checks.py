"""The chaos harness's checks are not vacuous: after a calm round they pass, and a duplicate, an
edit pmhub never saw and a lost comment made behind its back are each reported by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.chaos.harness import Chaos, ChaosSettings

pytest.importorskip("zohocrmsdk")
pytestmark = pytest.mark.slow


def test_a_duplicate_a_stray_edit_and_a_missing_comment_are_each_reported(
        tmp_path: Path, sandbox: SandboxClient) -> None:
    # A seed whose two rounds create GitHub<->Jira records (the checks below need one with comments).
    chaos = Chaos(tmp_path, sandbox, ChaosSettings(seed=3, epochs=1, rounds_per_epoch=2, fault_kinds=()))
    report = chaos.run()
    assert report.failures == [], report.summary()
    portal = chaos.flows[0]
    entity = next(e for e in chaos.entities if e.flow is portal)

    portal.b.tool.create(f"{entity.tag} again", "a second copy")
    portal.a.tool.edit(entity.ids["a"], "description", "changed behind pmhub's back.")
    portal.b.tool.comment(entity.ids["b"], "K999 never synced")
    entity.notes["K998"] = "K998 promised but never written"
    chaos.checker.check(chaos.entities)

    failed = {line.split(":", 1)[0] for line in report.failures}
    assert {"no-duplicates", "sides-equal", "last-edit", "no-strays", "comments-equal"} <= failed, \
        report.summary()
    assert any(f"records for {entity.tag}" in line for line in report.failures)
