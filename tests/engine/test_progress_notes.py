"""Progress back to the customer: one note per customer per run when their work moved, never twice."""

from __future__ import annotations

import datetime as dt

from hub.model import Issue, StatusCategory


def test_status_changes_write_one_note_per_customer_and_a_rerun_writes_none(make_pair):
    pair = make_pair(records=["issue"], progress_notes={"side": "a"})
    first = pair.a.put("proj", "issue", Issue(title="Login page", customer="Globex"))
    pair.a.put("proj", "issue", Issue(title="Reports", customer="Globex", due_date=dt.date(2027, 3, 1)))
    pair.a.put("proj", "issue", Issue(title="Other work", customer="Initech"))
    pair.sync()
    assert pair.a.notes("proj", "Globex") == []  # nothing has moved yet
    twins = {item.title: ident for ident, item in pair.b.all("proj", "issue")}
    pair.b.edit("proj", "issue", twins["Login page"], status=StatusCategory.DONE)
    pair.sync()
    [(title, body, _marker)] = pair.a.notes("proj", "Globex")
    assert "1/2 done" in title and "Login page: todo -> done" in body
    assert "Next milestone: Reports, due 2027-03-01" in body
    assert pair.a.notes("proj", "Initech") == []
    assert pair.a.get("proj", "issue", first).status == StatusCategory.DONE
    pair.sync()
    pair.sync("--full")
    assert len(pair.a.notes("proj", "Globex")) == 1


def test_a_note_tells_health_milestone_forecasts_and_open_risks_like_the_report(make_pair):
    pair = make_pair(records=["issue"], progress_notes={"side": "a"})
    due = dt.date.today() + dt.timedelta(days=60)
    for title in ("Login page", "Reports"):
        pair.a.put("proj", "issue", Issue(title=title, customer="Globex", milestone="Beta", due_date=due))
    pair.a.put("proj", "issue", Issue(title="Vendor delay", customer="Globex", kind="risk",
                                      priority="high"))
    pair.sync()
    twins = {item.title: ident for ident, item in pair.b.all("proj", "issue")}
    pair.b.edit("proj", "issue", twins["Login page"], status=StatusCategory.DONE)
    pair.sync()
    [(_title, body, _marker)] = pair.a.notes("proj", "Globex")
    assert "Login page: todo -> done" in body, "what moved since the last note"
    assert "**Health: At risk**" in body, "an open high-priority risk puts the work at risk"
    beta = next(line for line in body.splitlines() if line.startswith("| Beta |"))
    _name, _due, done, forecast, variance, _state = (cell.strip() for cell in beta.strip("|").split("|"))
    assert done == "1/2" and forecast not in ("", "-") and variance.lstrip("+-").isdigit(), beta
    risks = body.split("### Open risks", 1)[1]
    assert "Vendor delay" in risks


def test_a_note_is_not_duplicated_when_the_run_dies_after_writing_it(make_pair):
    pair = make_pair(records=["issue"], progress_notes={"side": "a"})
    pair.a.put("proj", "issue", Issue(title="Login page", customer="Globex"))
    pair.sync()
    [(twin, _)] = pair.b.all("proj", "issue")
    pair.b.edit("proj", "issue", twin, status=StatusCategory.DONE)
    pair.sync()
    # Forget that the note was written (as if the process died right after posting it).
    from hub.state.store import StateStore

    store = StateStore.open(pair.state_url)
    store.set_progress_baseline("main", "Globex", {"1": "todo"})
    store.close()
    pair.sync()
    assert len(pair.a.notes("proj", "Globex")) == 1


def test_progress_notes_need_a_plugin_that_keeps_notes(tmp_path):
    from click.testing import CliRunner

    from hub.cli import main

    config = tmp_path / "c.toml"
    config.write_text('''
[connections.left]
plugin = "reference"
path = "memory:pn-left"
[connections.right]
plugin = "reference"
path = "memory:pn-right"
[[flows]]
name = "main"
a = { connection = "left", scope = "p" }
b = { connection = "right", scope = "p" }
progress_notes = { side = "c" }
''')
    result = CliRunner().invoke(main, ["check", "--offline", "-c", str(config)])
    assert result.exit_code == 2 and "flows[0].progress_notes.side" in result.output
