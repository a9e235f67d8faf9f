"""A state store that cannot be used is one line and exit 2, never a traceback; once it is healthy
again the next run converges with nothing lost (issue 10, item 4).

Each failure is real: a missing directory, garbage and truncated files, an immutable file
(chattr +i), a full disk (a tiny tmpfs), a schema revision this pmhub does not know, and a
PostgreSQL server that is unreachable or lacks the database.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text

from hub.model import Issue
from hub.state.location import masked
from hub.state.revision import head_revision
from hub.state.store import StateStore
from tests.conftest import POSTGRES_URL, Pair, downgrade, postgres_available


def only_error_line(result: Result, location: str) -> str:
    """The one stderr line a broken store gives, naming it; exit 2 and no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: state {location}: "), line
    return line


def issue_titles(pair: Pair) -> list[str]:
    return sorted(item.title for _, item in pair.b.all("proj", "issue") if isinstance(item, Issue))


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[Pair]:
    """Three issues synced a->b over a SQLite state file, and a copy of that healthy file."""
    pair = Pair(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", records=["issue"])
    for n in range(3):
        pair.a.put("proj", "issue", Issue(title=f"issue {n}"))
    pair.sync()
    shutil.copy(tmp_path / "state.db", tmp_path / "backup.db")
    yield pair
    pair.close()


def test_a_missing_directory_names_it_and_a_run_after_creating_it_syncs(tmp_path: Path) -> None:
    folder = tmp_path / "no" / "such"
    pair = Pair(tmp_path, f"sqlite:///{folder / 'state.db'}", records=["issue"])
    pair.a.put("proj", "issue", Issue(title="waiting"))

    line = only_error_line(pair.sync(expect=None), f"sqlite:///{folder / 'state.db'}")
    assert f"the directory {folder} does not exist; create it" in line
    assert not folder.exists(), "a typo in the URL must not create folders"

    folder.mkdir(parents=True)
    pair.sync()
    assert issue_titles(pair) == ["waiting"]
    pair.close()


@pytest.mark.parametrize(("damage", "says"), [
    (lambda db: db.write_bytes(b"not a database at all " * 500), "is not an SQLite database"),
    (lambda db: db.write_bytes(db.read_bytes()[:8192]), "is damaged"),
], ids=["garbage", "truncated"])
def test_a_damaged_file_is_one_line_and_a_restored_backup_converges(
        synced: Pair, tmp_path: Path, damage: Callable[[Path], object], says: str) -> None:
    db = tmp_path / "state.db"
    damage(db)
    synced.a.edit("proj", "issue", "1", title="issue 0 (edited while the store was broken)")

    line = only_error_line(synced.sync(expect=None), f"sqlite:///{db}")
    assert says in line and "restore it from a backup" in line

    shutil.copy(tmp_path / "backup.db", db)
    synced.sync()
    assert issue_titles(synced) == ["issue 0 (edited while the store was broken)", "issue 1", "issue 2"]


def test_an_immutable_file_is_one_line_and_the_next_run_after_chattr_minus_i_converges(
        synced: Pair, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root and ext4, xfs, btrfs...)")
    try:
        synced.a.put("proj", "issue", Issue(title="made while the store was immutable"))
        line = only_error_line(synced.sync(expect=None), f"sqlite:///{db}")
        assert "cannot be written" in line and "chattr -i" in line
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    synced.sync()
    assert issue_titles(synced) == ["issue 0", "issue 1", "issue 2", "made while the store was immutable"]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 400 KiB tmpfs (mounting needs root; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_mid_run_is_one_line_and_the_run_after_freeing_space_converges(
        tmp_path: Path, tiny_disk: Path) -> None:
    db = tiny_disk / "state.db"
    pair = Pair(tmp_path, f"sqlite:///{db}", records=["issue"])
    pair.a.insert("proj", "issue", [(Issue(title=f"issue {n}", description="x" * 300), None)
                                    for n in range(1500)])

    line = only_error_line(pair.sync(expect=None), f"sqlite:///{db}")
    assert "the disk is full" in line and "free space" in line
    assert pair.b.count("proj", "issue") < 1500, "the disk should fill up before the end"

    subprocess.run(["mount", "-o", "remount,size=50m", str(tiny_disk)], check=True)
    pair.sync()
    titles = issue_titles(pair)
    assert len(titles) == len(set(titles)) == 1500, "every issue exactly once"
    quiet = pair.sync().output
    assert "right: 0 created, 0 updated" in quiet
    pair.close()


def set_revision(url: str, revision: str) -> None:
    store = StateStore.open(url, migrate=False)
    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    store.close()


def test_a_schema_newer_than_the_code_is_one_line_and_nothing_is_touched(state_url: str,
                                                                       tmp_path: Path) -> None:
    pair = Pair(tmp_path, state_url, records=["issue"])
    pair.sync()
    set_revision(state_url, "9999")
    pair.a.put("proj", "issue", Issue(title="not synced by an older pmhub"))

    line = only_error_line(pair.sync(expect=None), masked(state_url))
    assert "revision 9999, which pmhub" in line and f"knows up to {head_revision()}" in line
    assert "upgrade pmhub" in line
    assert pair.b.count("proj", "issue") == 0

    set_revision(state_url, head_revision())  # as the newer pmhub would leave it, say
    pair.sync()
    assert issue_titles(pair) == ["not synced by an older pmhub"]
    pair.close()


def test_a_schema_older_than_the_code_is_migrated_and_keeps_its_links(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    pair = Pair(tmp_path, url, records=["issue"])
    pair.a.put("proj", "issue", Issue(title="synced by the older schema"))
    pair.sync()
    store = StateStore.open(url, migrate=False)
    downgrade(store.engine, "0002")
    store.close()

    pair.a.put("proj", "issue", Issue(title="synced after the upgrade"))
    pair.sync()
    assert issue_titles(pair) == ["synced after the upgrade", "synced by the older schema"]
    with StateStore.open(url, migrate=False).engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
    pair.close()


def test_an_unreachable_postgresql_server_names_the_url_with_its_password_masked(tmp_path: Path) -> None:
    pair = Pair(tmp_path, "postgresql+psycopg://pmhub:hunter2@127.0.0.1:1/pmhub", records=["issue"])

    result = pair.sync(expect=None)

    line = only_error_line(result, "postgresql+psycopg://pmhub:***@127.0.0.1:1/pmhub")
    assert "cannot reach the database server" in line and "[state] url" in line
    assert "hunter2" not in result.output
    pair.close()


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    missing = f"pmhub_nope_{uuid.uuid4().hex[:8]}"
    url = POSTGRES_URL.rsplit("/", 1)[0].replace("postgres@", "postgres:hunter2@") + f"/{missing}"
    pair = Pair(tmp_path, url, records=["issue"])

    result = pair.sync(expect=None)

    line = only_error_line(result, masked(url))
    assert f'database "{missing}" does not exist' in line and "create the database" in line
    assert "hunter2" not in result.output and ":***@" in line
    pair.close()
