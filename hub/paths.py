"""Where pmhub keeps files by default: ``$PMHUB_DATA_DIR`` or the user's data dir."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "PMHUB_DATA_DIR"


def data_dir(*, create: bool = True) -> Path:
    """The directory; ``create=False`` for a caller that may never write there."""
    from platformdirs import user_data_dir

    path = Path(os.environ.get(DATA_DIR_ENV) or user_data_dir("pmhub", appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
