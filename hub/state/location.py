"""Where the state store is: relative SQLite paths anchored to the config, URLs shown masked."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names, or None (another backend, in memory, a ``file:`` URI, or not
    a URL at all: the store reports that itself when it opens)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    return Path(database)


def anchored(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path (``sqlite:///pmhub.db``, ``~/...``) made absolute
    against ``base``, the config file's folder, so a run from any directory (cron starts in
    ``$HOME``) opens the same store. Any other URL is returned unchanged."""
    path = sqlite_file(url)
    if path is None:
        return url
    # abspath, not resolve(): ``..`` folds away, a symlinked folder stays as the user wrote it.
    absolute = Path(os.path.abspath(base / path.expanduser()))
    if absolute == path:
        return url
    return make_url(url).set(database=str(absolute)).render_as_string(hide_password=False)


def masked(url: str | URL) -> str:
    """The URL as it may be shown: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def described(url: str | URL | None) -> str:
    """One line saying where the state is (``None``: the default file in the data dir), for
    ``pmhub check`` and ``pmhub status``. Creates nothing."""
    if url is None:
        from hub.state.store import default_state_url

        url = default_state_url(create=False)
    path = sqlite_file(url)
    where = f"state {masked(url)}"
    if path is not None and not path.exists():
        where += " (no file yet: the first sync creates it)"
    return where
