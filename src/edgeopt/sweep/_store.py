"""The SQLite results store of a sweep (written by the driver only)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgeopt._validation import invalid_config

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ResultStore", "read_store"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    code_version TEXT NOT NULL,
    seed TEXT NOT NULL,
    params TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    outputs TEXT,
    error TEXT,
    elapsed_s REAL,
    finished_at REAL NOT NULL
);
"""


class ResultStore:
    """One SQLite file holding finished points, keyed by ``point_key``.

    The file is opened in WAL mode with ``synchronous=NORMAL``: every finished point is
    committed in its own transaction, and a committed transaction survives the driver
    being killed (SIGKILL) at any moment.  Only the driver process writes to it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path, timeout=60.0)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._conn:
                self._conn.executescript(_SCHEMA)
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)",
                    (SCHEMA_VERSION,),
                )
            (version,) = self._conn.execute(
                "SELECT value FROM meta WHERE name = 'schema'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise invalid_config(None, "store", str(path), f"a usable sweep store ({exc})") from exc
        if version != SCHEMA_VERSION:
            self._conn.close()
            raise invalid_config(
                None,
                "store",
                str(path),
                f"a sweep store of schema version {SCHEMA_VERSION}, not {version}",
            )

    @staticmethod
    def check_usable(path: str | os.PathLike[str]) -> None:
        """Raise :class:`~edgeopt.errors.ConfigError` if ``path`` exists and is not a sweep store.

        Reads an existing file without writing anything (not even the ``-wal`` and
        ``-shm`` side files); a missing file is fine.
        """
        p = Path(path)
        if p.is_dir():
            raise invalid_config(None, "store", str(path), "a file path, not a folder")
        for parent in p.parents:  # the folder must be creatable: no file in the way
            if parent.exists():
                if not parent.is_dir():
                    raise invalid_config(
                        None,
                        "store",
                        str(path),
                        f"a path under a folder, but {str(parent)!r} is a file",
                    )
                break
        if not p.exists():
            return
        try:
            with open(p, "rb") as fh:
                header = fh.read(16)
        except OSError as exc:
            raise invalid_config(None, "store", str(path), f"a readable file ({exc})") from exc
        if header and header != b"SQLite format 3\x00":
            raise invalid_config(
                None, "store", str(path), "a usable sweep store (this is not an SQLite file)"
            )
        try:
            # immutable=1: no lock, no -wal/-shm file is created; nothing is written
            conn = sqlite3.connect(f"{p.resolve().as_uri()}?immutable=1", uri=True)
            try:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise invalid_config(None, "store", str(path), f"a usable sweep store ({exc})") from exc
        if tables and not {"meta", "results"} <= tables:
            raise invalid_config(
                None,
                "store",
                str(path),
                f"a sweep store, not an SQLite file of something else (tables {sorted(tables)})",
            )

    def put(
        self,
        key: str,
        *,
        code: str,
        seed: int,
        params_json: str,
        repeat: int,
        status: str,
        outputs_json: str | None,
        error: str | None,
        elapsed_s: float | None,
    ) -> None:
        """Insert or replace one finished point, in its own transaction."""
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO results (key, code_version, seed, params, repeat, status,"
                " outputs, error, elapsed_s, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    code,
                    str(seed),
                    params_json,
                    int(repeat),
                    status,
                    outputs_json,
                    error,
                    elapsed_s,
                    time.time(),
                ),
            )

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed into the main file)."""
        self._conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_store(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Every row of a sweep store, as a DataFrame (for inspection and debugging).

    Parameters
    ----------
    path : str or path-like
        An SQLite file written by :func:`edgeopt.sweep.run_sweep`.  Opened read-only.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``code_version``, ``seed``, ``params`` (dict), ``repeat``,
        ``status`` (``"ok"`` or ``"error"``), ``outputs`` (dict or None), ``error`` (the
        full traceback of a failed point, else None), ``elapsed_s`` and ``finished_at``
        (Unix time), in insertion order.

    Raises
    ------
    ConfigError
        If the file does not exist or is not a sweep store.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from edgeopt.sweep import run_sweep, read_store
    >>> from edgeopt.sweep.demo import rayleigh_outage
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.sqlite"
    >>> _ = run_sweep(rayleigh_outage, {"snr_db": [0, 10], "rate_bps_hz": [1.0]}, seed=1,
    ...               executor="serial", store=path, progress=False)
    >>> rows = read_store(path)
    >>> rows["status"].tolist(), sorted(p["snr_db"] for p in rows["params"])
    (['ok', 'ok'], [0, 10])
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise invalid_config(None, "store", str(path), "the path of an existing sweep store")
    ResultStore.check_usable(p)
    conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=60.0)
    try:
        cur = conn.execute(
            "SELECT key, code_version, seed, params, repeat, status, outputs, error, elapsed_s,"
            " finished_at FROM results ORDER BY rowid"
        )
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        conn.close()
    records = []
    for row in rows:
        rec = dict(zip(cols, row, strict=True))
        rec["params"] = json.loads(rec["params"])
        rec["outputs"] = None if rec["outputs"] is None else json.loads(rec["outputs"])
        rec["seed"] = int(rec["seed"])
        records.append(rec)
    table = pd.DataFrame(records, columns=cols)
    table["error"] = table["error"].astype(object).where(table["status"] == "error", None)
    return table
