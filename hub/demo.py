"""``pmhub demo``: GitHub <-> Jira both ways, and a CRM customer's requests becoming Jira work with
progress written back to the customer, all against the in-process sandbox, with no credentials.

The demo is a list of small steps run in order over one ``Demo`` object. A step may add connections
and flows (before ``write_config``), run syncs, edit a tool through its real client library, or note
what a user should look at. Adding a tool to the demo means adding steps, not editing the others::

    steps = (*DEFAULT_STEPS[:2], my_connection_step, *DEFAULT_STEPS[2:], my_edit_step, ...)

Client libraries are imported inside the steps: ``pmhub --help`` must not pay for them.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hub.errors import PmhubError

if TYPE_CHECKING:
    from hub.engine.flow import FlowResult
    from hub.sandbox.server import SandboxServer

Echo = Callable[[str], None]

GITHUB_REPO = "acme/portal"
JIRA_PROJECT = "PORT"
JIRA_EMAIL = "bot@acme.example"
CONFIG_NAME = "pmhub-demo.toml"
STATE_NAME = "pmhub-demo.db"
TOKEN_NAME = "sandbox-token"
ZOHO_CLIENT_ID = "1000.PMHUBDEMO"
CUSTOMER = "Acme Corp"
CUSTOMER_CASE = "Login page times out"


class DemoFailed(PmhubError):
    """A step of the demo did not do what it should (the message says which)."""


@dataclass
class Demo:
    """What the steps share: the sandbox, the config being built, and what happened so far."""

    echo: Echo
    workdir: Path
    #: True when the user asked to keep the state (--keep-state): nothing is deleted afterwards.
    kept: bool
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    server: SandboxServer | None = None
    #: ``[connections.NAME]`` tables and ``[[flows]]`` entries; steps add theirs before write_config.
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: list[dict[str, Any]] = field(default_factory=list)
    config: Path | None = None
    #: Per connection: records created and updated over all syncs of the demo.
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    #: Per service and HTTP method: requests pmhub made (from the sandbox log, syncs only).
    api_calls: dict[str, Counter[str]] = field(default_factory=dict)
    #: Lines for the summary: what the edits did on the other side.
    outcomes: list[str] = field(default_factory=list)
    #: Named values steps hand to later steps (e.g. which Jira issue the GitHub edit should reach).
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        if self.server is None:
            raise DemoFailed("the sandbox is not running (start_sandbox must come first)")
        return self.server.url

    def base(self, service: str) -> str:
        return f"{self.url}/{service}"

    @property
    def state_file(self) -> Path:
        return self.workdir / STATE_NAME

    def sync(self, label: str) -> list[FlowResult]:
        """Run every flow like ``pmhub sync``, with progress lines; count what it did."""
        from hub.engine.runner import open_hub, sync

        if self.config is None:
            raise DemoFailed("no config yet (write_config must come before a sync)")
        assert self.server is not None
        log = self.server.app.log
        first_request = len(log)

        sides = {(f["name"], side): f[side]["connection"] for f in self.flows for side in ("a", "b")}

        def progress(flow: str, side: str, record_type: str, n: int) -> None:
            where = sides.get((flow, side), f"side {side}")
            self.echo(f"    {flow}: read {n} {record_type}{'s' if n != 1 else ''} from {where}")

        started = time.perf_counter()
        with open_hub(self.config) as hub:
            results = sync(hub, progress=progress)
        for entry in log[first_request:]:
            self.api_calls.setdefault(entry["service"], Counter())[entry["method"]] += 1
        for result in results:
            for stats in result.stats.values():
                self.created[stats.connection] += stats.created
                self.updated[stats.connection] += stats.updated
            parts = "; ".join(f"{s.connection}: {s.created} created, {s.updated} updated, "
                              f"{s.unchanged} unchanged" for s in result.stats.values())
            self.echo(f"    flow {result.flow}: {result.status} ({parts})")
            if result.status != "ok":
                raise DemoFailed(f"{label}: flow {result.flow} ended {result.status}: {result.error or ''}")
        self.echo(f"    {label} took {time.perf_counter() - started:.1f} s")
        return results


class Step(NamedTuple):
    title: str
    run: Callable[[Demo], None]


# -- steps ---------------------------------------------------------------------------------------
def start_sandbox(demo: Demo) -> None:
    from hub.sandbox.server import SandboxServer, build_sandbox

    # Port 0: the OS picks a free port, so the demo never collides with a running `pmhub sandbox`.
    demo.server = SandboxServer(build_sandbox(token=demo.token, seed="demo"), port=0).start()
    demo.echo(f"    stand-ins for {', '.join(sorted(demo.server.app.services))} on {demo.url}")
    demo.echo(f"    GitHub repository {GITHUB_REPO} and Jira project {JIRA_PROJECT} hold a customer's work")


def connect_github_jira(demo: Demo) -> None:
    token = {"file": TOKEN_NAME}
    demo.connections["gh"] = {"plugin": "github", "base_url": demo.base("github"), "token": token,
                              # GitHub's content-creation limits do not apply to the sandbox.
                              "seconds_between_writes": 0}
    demo.connections["jira"] = {"plugin": "jira", "base_url": demo.base("jira"), "email": JIRA_EMAIL,
                                "token": token}
    demo.flows.append({
        "name": "portal-issues", "a": {"connection": "gh", "scope": GITHUB_REPO},
        "b": {"connection": "jira", "scope": JIRA_PROJECT}, "records": ["issue", "comment"],
        "direction": "both", "mapping": "github-jira", "conflict": "newest",
        # Both sides already hold "Export invoices as CSV": the title rule links them, no duplicate.
        "match": ["marker", "link", "title"],
    })


def connect_crm(demo: Demo) -> None:
    """Zoho CRM cases become Jira work; progress goes back to the customer's account as notes."""
    token = {"file": TOKEN_NAME}
    demo.connections["crm"] = {"plugin": "zoho_crm", "base_url": demo.base("zoho"),
                               "client_id": ZOHO_CLIENT_ID, "client_secret": token, "refresh_token": token,
                               # The SDK's metadata cache stays with the demo's other files.
                               "data_dir": str(demo.workdir / "zoho")}
    demo.flows.append({
        "name": "customer-requests", "a": {"connection": "crm", "scope": "Cases"},
        "b": {"connection": "jira", "scope": JIRA_PROJECT}, "records": ["issue"],
        "direction": "both", "mapping": "zoho-jira", "conflict": "newest",
        "match": ["marker", "link", "title"], "progress_notes": {"side": "a"},
        # Only work for a customer becomes a CRM case; internal Jira issues stay out of the CRM.
        "filter": {"present": ["customer"]},
    })


def write_config(demo: Demo) -> None:
    from hub.config import render_config

    (demo.workdir / TOKEN_NAME).write_text(demo.token, encoding="utf-8")
    demo.config = demo.workdir / CONFIG_NAME
    demo.config.write_text(render_config(
        header="Written by `pmhub demo`: a working config against the sandbox it started.",
        state_url=f"sqlite:///{demo.state_file}", connections=demo.connections, flows=demo.flows,
    ), encoding="utf-8")
    demo.echo(f"    {demo.config}")


def first_sync(demo: Demo) -> None:
    demo.sync("first sync")


def edit_github(demo: Demo) -> None:
    """Rename the first GitHub issue through PyGithub."""
    gh = _github(demo)
    try:
        issue = gh.get_repo(GITHUB_REPO).get_issue(1)
        new_title = f"{issue.title} (SAML RelayState)"
        issue.edit(title=new_title)
    finally:
        gh.close()
    demo.facts["github_renamed"] = new_title
    demo.echo(f"    GitHub #1 renamed to {new_title!r}")


def edit_jira(demo: Demo) -> None:
    """Move the first Jira issue to Done and comment on it, through the ``jira`` client."""
    jira = _jira(demo)
    try:
        key = f"{JIRA_PROJECT}-1"
        done = next((t["id"] for t in jira.transitions(key) if t["to"]["name"] == "Done"), None)
        if done is None:
            raise DemoFailed(f"the sandbox offers no transition of {key} to Done")
        jira.transition_issue(key, done)
        jira.add_comment(key, "Deployed the proxy fix to production; the customer confirmed it works.")
        demo.facts["jira_done"] = (key, jira.issue(key, fields="summary").fields.summary)
    finally:
        jira.close()
    demo.echo(f"    Jira {key} moved to Done, with a comment")


def finish_customer_work(demo: Demo) -> None:
    """The team finishes the customer's case in Jira (its twin was created by the first sync)."""
    jira = _jira(demo)
    try:
        found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary", maxResults=False)
        twin = next((i for i in found if i.fields.summary == CUSTOMER_CASE), None)
        if twin is None:
            raise DemoFailed(f"the CRM case {CUSTOMER_CASE!r} did not become a Jira issue")
        done = next((t["id"] for t in jira.transitions(twin.key) if t["to"]["name"] == "Done"), None)
        if done is None:
            raise DemoFailed(f"the sandbox offers no transition of {twin.key} to Done")
        jira.transition_issue(twin.key, done)
    finally:
        jira.close()
    demo.facts["customer_case"] = twin.key
    demo.echo(f"    Jira {twin.key} ({CUSTOMER_CASE!r}, from {CUSTOMER}'s CRM case) moved to Done")


def second_sync(demo: Demo) -> None:
    demo.sync("second sync")


def check_edits(demo: Demo) -> None:
    """Look at the other side through the clients: did each edit arrive?"""
    jira, gh = _jira(demo), _github(demo)
    try:
        renamed = demo.facts.get("github_renamed")
        if renamed is not None:
            # The demo project is small: read it whole rather than rely on text search.
            found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary", maxResults=False)
            twin = next((i for i in found if i.fields.summary == renamed), None)
            if twin is None:
                raise DemoFailed(f"the GitHub rename did not reach Jira ({renamed!r})")
            demo.outcomes.append(f"GitHub #1 renamed -> Jira {twin.key} is now {renamed!r}")
        done = demo.facts.get("jira_done")
        if done is not None:
            key, summary = done
            repo = gh.get_repo(GITHUB_REPO)
            twin = next((i for i in repo.get_issues(state="all") if i.title == summary), None)
            if twin is None or twin.state != "closed":
                raise DemoFailed(f"the Jira transition of {key} did not close its GitHub twin")
            comments = [c.body for c in twin.get_comments()]
            if not comments:
                raise DemoFailed(f"the comment on {key} did not reach GitHub #{twin.number}")
            # Shown on one line, without the hidden marker the hub keeps in the body.
            shown = " ".join(comments[-1].split("<!--", 1)[0].split())
            demo.outcomes.append(f"Jira {key} -> Done -> GitHub #{twin.number} closed as "
                                 f"{twin.state_reason}, with the comment \"{shown}\"")
    finally:
        jira.close()
        gh.close()
    demo.echo(f"    {len(demo.outcomes)} of 2 edits arrived on the other side")


def check_customer(demo: Demo) -> None:
    """The case is closed in the CRM and one progress note is on the customer's account."""
    crm = _zoho(demo)
    cases = crm.get(f"{demo.base('zoho')}/crm/v8/Cases", params={"fields": "Subject,Status"}, timeout=10)
    case = next((c for c in cases.json().get("data", []) if c.get("Subject") == CUSTOMER_CASE), None)
    if case is None or case.get("Status") != "Closed":
        status = case.get("Status") if case else None
        raise DemoFailed(f"the CRM case {CUSTOMER_CASE!r} was not closed (status {status})")
    notes = _account_notes(demo, crm)
    if len(notes) != 1:
        raise DemoFailed(f"expected one progress note on {CUSTOMER}, found {len(notes)}")
    first_line = (notes[0].get("Note_Content") or "").strip().splitlines()[0]
    demo.outcomes.append(f"Jira {demo.facts.get('customer_case')} -> Done -> CRM case {CUSTOMER_CASE!r} "
                         f"closed; note on {CUSTOMER}: \"{first_line}\"")
    demo.echo(f"    case closed; {len(notes)} progress note on {CUSTOMER}")


def rerun(demo: Demo) -> None:
    """A run with nothing new writes nothing, and no second note."""
    results = demo.sync("third sync")
    writes = sum(s.created + s.updated for r in results for s in r.stats.values())
    notes = _account_notes(demo, _zoho(demo))
    if writes or len(notes) != 1:
        raise DemoFailed(f"a run with nothing new wrote {writes} records and left {len(notes)} notes")
    demo.outcomes.append("A third run with nothing new wrote nothing and added no note")


def _zoho(demo: Demo) -> Any:
    """A plain HTTP session on the CRM stand-in, authorised the way Zoho's OAuth works."""
    import requests

    session = requests.Session()
    reply = session.post(f"{demo.base('zoho')}/oauth/v2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": demo.token, "client_id": ZOHO_CLIENT_ID,
        "client_secret": demo.token})
    session.headers["Authorization"] = f"Zoho-oauthtoken {reply.json()['access_token']}"
    return session


def _account_notes(demo: Demo, crm: Any) -> list[dict[str, Any]]:
    accounts = crm.get(f"{demo.base('zoho')}/crm/v8/Accounts", params={"fields": "Account_Name"}, timeout=10)
    account = next(a for a in accounts.json()["data"] if a["Account_Name"] == CUSTOMER)
    reply = crm.get(f"{demo.base('zoho')}/crm/v8/Accounts/{account['id']}/Notes",
                    params={"fields": "Note_Title,Note_Content"}, timeout=10)
    return list(reply.json().get("data", [])) if reply.status_code == 200 else []


def _github(demo: Demo) -> Any:
    """PyGithub as a user of the sandbox would set it up (no throttling, no hidden retries)."""
    from github import Auth, Github

    return Github(auth=Auth.Token(demo.token), base_url=demo.base("github"), retry=None, lazy=True,
                  seconds_between_requests=None, seconds_between_writes=None, timeout=10)


def _jira(demo: Demo) -> Any:
    from jira import JIRA

    return JIRA(server=demo.base("jira"), basic_auth=(JIRA_EMAIL, demo.token), max_retries=0, timeout=10)


DEFAULT_STEPS: tuple[Step, ...] = (
    Step("Starting the sandbox (in this process, seeded with a customer project)", start_sandbox),
    Step("Connecting GitHub and Jira (flow portal-issues, mapping github-jira)", connect_github_jira),
    Step("Connecting Zoho CRM cases to Jira (flow customer-requests, mapping zoho-jira)", connect_crm),
    Step("Writing the config", write_config),
    Step("First sync: every flow, both ways", first_sync),
    Step("Editing GitHub: renaming an issue", edit_github),
    Step("Editing Jira: Done and a comment", edit_jira),
    Step("Finishing a customer's request in Jira", finish_customer_work),
    Step("Second sync: only the edits travel", second_sync),
    Step("Checking both edits arrived", check_edits),
    Step("Checking the customer side: case closed, one progress note", check_customer),
    Step("Third sync: nothing new, nothing written", rerun),
)


# -- running -------------------------------------------------------------------------------------
def run_demo(echo: Echo, *, keep_state: Path | None = None, steps: Sequence[Step] = DEFAULT_STEPS) -> Demo:
    """Run ``steps`` against a fresh sandbox; print the summary. Raises DemoFailed when a step fails."""
    if keep_state is not None:
        keep_state.mkdir(parents=True, exist_ok=True)
        if (keep_state / STATE_NAME).exists():
            # A state from an earlier demo links records of a sandbox that no longer exists.
            raise DemoFailed(f"{keep_state / STATE_NAME} exists from an earlier demo; remove it or "
                             "pass another --keep-state directory")
        workdir = keep_state.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix="pmhub-demo-"))
    demo = Demo(echo=echo, workdir=workdir, kept=keep_state is not None)
    started = time.perf_counter()
    try:
        for number, step in enumerate(steps, start=1):
            echo(f"[{number}/{len(steps)}] {step.title}")
            step.run(demo)
        summary(demo, time.perf_counter() - started)
    finally:
        if demo.server is not None:
            demo.server.stop()
        if not demo.kept:
            shutil.rmtree(workdir, ignore_errors=True)
    return demo


def summary(demo: Demo, seconds: float) -> None:
    echo = demo.echo
    echo("")
    echo(f"Summary ({seconds:.1f} s)")
    echo("  Records written by pmhub, per connection (all syncs):")
    for name in demo.connections:
        echo(f"    {name:8} {demo.created[name]:3} created  {demo.updated[name]:3} updated")
    echo("  API calls pmhub made, per service (from the sandbox's request log):")
    for service, methods in sorted(demo.api_calls.items()):
        detail = ", ".join(f"{n} {method}" for method, n in sorted(methods.items()))
        echo(f"    {service:8} {sum(methods.values()):3}  ({detail})")
    if demo.outcomes:
        echo("  What the edits did:")
        for line in demo.outcomes:
            echo(f"    {line}")
    if demo.kept:
        echo(f"  State file: {demo.state_file} (kept; the config next to it names the sandbox's "
             "port, which is gone once the demo ends)")
    else:
        echo(f"  State file: {demo.state_file} (temporary, removed now; keep it with --keep-state DIR)")
    echo("")
    echo("Next steps, with your own tools:")
    echo("  1. Copy config.example.toml (in the pmhub source) to pmhub.toml and fill in your")
    echo("     connections; tokens go in as { env = \"NAME\" } or { file = \"path\" }, never inline.")
    echo("  2. pmhub check            # validates the config and reaches every connection")
    echo("  3. pmhub sync --dry-run   # prints what would be created and updated; writes nothing")
    echo("  4. pmhub sync             # then from cron, or `pmhub daemon` with a schedule")
    echo("  Try things first against `pmhub sandbox` (the stand-ins this demo used, on a fixed port).")
