"""``pmhub demo``: runs with no credentials and no config, exits 0 and tells the user what happened."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main


def created_per_connection(output: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r"^\s+(gh|jira|crm)\s+(\d+) created\s+(\d+) updated$", output, re.M)
    return {name: (int(created), int(updated)) for name, created, updated in found}


def test_demo_syncs_both_ways_and_prints_a_summary_with_next_steps(tmp_path: Path) -> None:
    keep = tmp_path / "demo-state"
    result = CliRunner().invoke(main, ["demo", "--keep-state", str(keep)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    output = result.output
    assert "First sync" in output and "Second sync" in output, "progress output per step"
    counts = created_per_connection(output)
    # The demo seed: 4 GitHub issues and 4 Jira issues without a twin (one pair matches by title),
    # 3 comments each way, then the Jira comment crosses in the second sync; GitHub's milestone
    # becomes a Jira version. Three of the CRM's cases become Jira issues (the fourth matches by
    # title) and the CRM's two Deals become Epics; all five travel on to GitHub.
    assert counts["jira"][0] == 7 + 1 + 3 + 2 and counts["gh"][0] == 8 + 3 + 2, output
    assert counts["crm"][0] == 0, "internal Jira work does not become CRM cases"
    assert counts["jira"][1] >= 1 and counts["gh"][1] >= 1, "each edit updated the other side"
    calls = dict(re.findall(r"^\s+(github|jira)\s+(\d+)\s+\(", output, re.M))
    assert int(calls["github"]) > 0 and int(calls["jira"]) > 0, output
    assert re.search(r"GitHub #1 renamed -> Jira PORT-\d+ is now", output)
    assert re.search(r"Jira PORT-1 -> Done -> GitHub #\d+ closed as completed, with the comment "
                     r'"\*\*pmhub-bot\*\* \(via jira\): Deployed', output)
    assert re.search(r"Jira PORT-\d+ -> Done -> CRM case 'Login page times out' closed; note on Acme Corp: "
                     r'"\*\*1/3 done\*\* for Acme Corp\."', output)
    assert re.search(r"GitHub milestone 'v1.0' re-dated -> Jira version 'v1.0' releases \d{4}-\d\d-\d\d, "
                     r"fix version of \d+ issues", output)
    assert re.search(r"CRM Deal 'Acme customer portal' -> Jira Epic PORT-\d+ with its 2 requests under it",
                     output)
    assert "A third run with nothing new wrote nothing and added no note" in output
    assert f"State file: {keep.resolve() / 'pmhub-demo.db'}" in output
    assert (keep / "pmhub-demo.db").is_file() and (keep / "pmhub-demo.toml").is_file()
    assert "sandbox-token" not in (keep / "pmhub-demo.toml").read_text().replace(
        'file = "sandbox-token"', ""), "the token is referenced, never inline"
    for hint in ("config.example.toml", "pmhub check", "pmhub sync --dry-run"):
        assert hint in output


def test_demo_runs_as_a_module_in_a_fresh_process_quickly(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "hub", "demo"], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Summary" in done.stdout and "Traceback" not in done.stderr
    assert "(temporary, removed now; keep it with --keep-state DIR)" in done.stdout
    assert list(tmp_path.iterdir()) == [], "nothing left behind in the working directory"
    # A guard against a hang or a runaway, not a benchmark: the demo takes ~10 s on a quiet machine.
    assert elapsed < 40, f"the demo took {elapsed:.1f} s"


def test_cli_start_does_not_import_the_client_libraries() -> None:
    code = "import sys, hub.cli; print(sorted(m for m in ('jira', 'github') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


# -- steps come from the plugins through register_demo_steps ---------------------------------------
def test_the_tools_steps_come_from_their_plugins_and_run_in_position_order() -> None:
    from hub.demo import CORE_STEPS, Phase, default_steps

    steps = default_steps()
    positions = [step.position for step in steps]
    assert positions == sorted(positions)
    by_module = {step.run.__module__ for step in steps if step not in CORE_STEPS}
    assert by_module == {f"pmhub_plugins.{tool}.demo" for tool in ("github", "jira", "zoho_crm")}
    titles = [step.title for step in steps if step.title is not None]
    assert len(titles) == 15 and titles[0].startswith("Starting the sandbox")
    # Connections are added before the config is written; edits fall between the first two syncs.
    connect = [s for s in steps if s.title and s.title.startswith("Connecting")]
    assert connect and all(Phase.SANDBOX < s.position < Phase.WRITE_CONFIG for s in connect)
    edits = [s for s in steps if s.title and s.title.startswith(("Editing", "Finishing"))]
    assert len(edits) == 4 and all(Phase.FIRST_SYNC < s.position < Phase.SECOND_SYNC for s in edits)


def test_a_third_party_plugin_adds_a_step_where_its_position_says() -> None:
    import types

    from hub import hookimpl
    from hub.demo import Demo, DemoStep, Phase, default_steps
    from hub.plugins import build_plugin_manager

    def look(demo: Demo) -> None:
        demo.echo("looked")

    extra = types.ModuleType("demo_extra")

    @hookimpl
    def register_demo_steps(register):  # type: ignore[no-untyped-def]
        register(DemoStep(Phase.EDIT + 1, "Looking around", look))

    extra.register_demo_steps = register_demo_steps  # type: ignore[attr-defined]
    titles = [s.title for s in default_steps(build_plugin_manager(extra=(extra,))) if s.title]
    assert titles.index("Looking around") == titles.index("Editing GitHub: renaming an issue") + 1


def test_a_plugin_whose_demo_steps_fail_to_register_stops_the_demo_with_its_name() -> None:
    import types

    import pytest

    from hub import hookimpl
    from hub.demo import DemoFailed, default_steps
    from hub.plugins import build_plugin_manager

    broken = types.ModuleType("broken_demo")

    @hookimpl
    def register_demo_steps(register):  # type: ignore[no-untyped-def]
        raise RuntimeError("no steps today")

    broken.register_demo_steps = register_demo_steps  # type: ignore[attr-defined]
    with pytest.raises(DemoFailed, match=r"broken_demo.*no steps today"):
        default_steps(build_plugin_manager(extra=(broken,)))


def test_untitled_steps_continue_the_step_before_them(tmp_path: Path) -> None:
    import pytest

    from hub.demo import Demo, DemoFailed, DemoStep, run_demo

    lines: list[str] = []

    def say(text: str) -> Callable[[Demo], None]:
        return lambda demo: demo.echo(text)

    run_demo(lines.append, keep_state=tmp_path / "kept",
             steps=[DemoStep(20, None, say("more of one")), DemoStep(10, "One", say("one")),
                    DemoStep(30, "Two", say("two"))])
    assert lines[:5] == ["[1/2] One", "one", "more of one", "[2/2] Two", "two"]
    with pytest.raises(DemoFailed, match="needs a title"):
        run_demo(lines.append, steps=[DemoStep(10, None, say("orphan"))])
