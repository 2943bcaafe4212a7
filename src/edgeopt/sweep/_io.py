"""Atomic file writes and table export (CSV, Parquet)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["to_csv", "to_parquet", "atomic_path", "write_text_atomic"]


def _default_mode() -> int:
    """Permissions a newly created file gets under the current umask (0o666 & ~umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``.

    The temporary file lives in the same folder (same file system), is flushed to disk and
    then renamed with :func:`os.replace`, which is atomic: a reader (or a run interrupted
    at any moment) sees either the old file or the complete new one, never a partial file.
    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path.

    The text goes to a temporary file in the same folder, which is flushed and then
    renamed onto ``path`` (:func:`os.replace`): a reader, or a run interrupted at any
    moment, sees the old file or the complete new one, never a part.  Missing parent
    folders are created.

    Parameters
    ----------
    path : str or path-like
    text : str

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from edgeopt.sweep import write_text_atomic
    >>> path = write_text_atomic(pathlib.Path(tempfile.mkdtemp()) / "a" / "note.txt", "hi\\n")
    >>> path.read_text()
    'hi\\n'
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _write_with(path: str | os.PathLike[str], writer: Callable[[IO[Any] | Path], Any]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def to_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sweep table to CSV atomically (no index column).

    Parameters
    ----------
    table : pandas.DataFrame
        As returned by :func:`edgeopt.sweep.run_sweep`.
    path : str or path-like
        Destination; parent folders are created.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from edgeopt.sweep import to_csv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> to_csv(pd.DataFrame({"a": [1, 2]}), folder / "t.csv").read_text().split()
    ['a', '1', '2']
    """
    return _write_with(path, lambda tmp: table.to_csv(tmp, index=False))


def to_parquet(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sweep table to Parquet atomically (needs ``pyarrow``).

    Parameters
    ----------
    table : pandas.DataFrame
    path : str or path-like

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from edgeopt.sweep import to_parquet
    >>> path = to_parquet(pd.DataFrame({"a": [1, 2]}), pathlib.Path(tempfile.mkdtemp()) / "t.pq")
    >>> pd.read_parquet(path)["a"].tolist()
    [1, 2]
    """
    return _write_with(path, lambda tmp: table.to_parquet(tmp, index=False))
