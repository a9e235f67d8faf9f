"""Startup that matches the work: a sync imports only the connectors its config uses, and the
schema check on open does not load Alembic unless there is something to migrate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from hub.model import Issue
from hub.state.revision import current_revision, head_revision
from hub.state.store import MIGRATIONS, StateStore
from tests.conftest import Pair, downgrade

#: Top-level modules a reference-only no-op sync has no use for.
NOT_NEEDED = ("github", "jira", "requests", "zohocrmsdk", "alembic", "mako",
              # the service, the queue and the report load only for their own commands
              "celery", "starlette", "uvicorn", "prometheus_client", "matplotlib", "weasyprint", "babel")

_RUN_CLI = """
import json, sys
from hub.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run_cli_in_subprocess(*args: str, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    """Run ``pmhub ARGS`` in a fresh interpreter; its exit code and every module it imported."""
    done = subprocess.run([sys.executable, "-c", _RUN_CLI, *args], capture_output=True, text=True,
                          check=True, env=env)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.slow
def test_a_noop_sync_of_a_reference_config_imports_no_tool_client_and_no_alembic(tmp_path: Path):
    pair = Pair(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", file_backed=True)
    pair.a.insert("proj", "issue", [(Issue(title=f"issue {n}"), None) for n in range(3)])
    pair.sync()
    pair.sync()
    pair.close()
    code, modules = _run_cli_in_subprocess("sync", "--quiet", "--config", str(pair.config))
    assert code == 0
    loaded = sorted(m for m in modules if m.split(".")[0] in NOT_NEEDED)
    assert loaded == []
    unused_connectors = sorted(m for m in modules if m.startswith("pmhub_plugins.")
                               and m.endswith(".connector"))
    assert unused_connectors == []


def test_the_head_revision_read_without_alembic_is_alembics_own_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_schema_that_is_out_of_date_is_still_migrated_on_open(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = StateStore.open(url)
    downgrade(store.engine, "0001")
    with store.engine.connect() as conn:
        assert current_revision(conn) == "0001"
        assert not inspect(conn).has_table("progress")
    store.close()

    store = StateStore.open(url)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert inspect(conn).has_table("progress")
    store.close()


def test_a_new_state_database_gets_the_whole_schema(tmp_path: Path):
    store = StateStore.open(f"sqlite:///{tmp_path / 'new.db'}")
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert inspect(conn).has_table("links")
    store.close()


def test_head_revision_refuses_migrations_with_two_heads(tmp_path: Path):
    for name, revision in (("a.py", "x1"), ("b.py", "x2")):
        (tmp_path / name).write_text(f'revision = "{revision}"\ndown_revision = None\n')
    with pytest.raises(RuntimeError, match="2 heads"):
        head_revision(tmp_path)


def test_the_pmhub_program_spares_the_interpreter_a_collection_sweep_at_exit():
    # An exit handler registered first runs last: it sees what pmhub's own handler did.
    code = ("import atexit, gc\n"
            "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
            "from hub.cli import main\n"
            "main(['--version'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("frozen at exit: True"), done.stdout
