"""A one-line progress display on stderr (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_BAR = 24


def _fmt_s(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """``[####....] 37/200  18%  failures 0  elapsed 0:12  ETA 0:52`` redrawn in place.

    Enabled only when asked for *and* the stream is a terminal; otherwise every call is a
    no-op, so logs and pipes stay clean.  Redraws at most ten times a second.
    """

    def __init__(
        self, total: int, *, done: int = 0, enabled: bool = True, stream: TextIO | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled and callable(isatty) and isatty())
        self.total = total
        self.done = done
        self.skipped = done
        self.failures = 0
        self.start = time.monotonic()
        self._last = 0.0
        self._width = 0

    def line(self) -> str:
        """The current progress text."""
        elapsed = time.monotonic() - self.start
        computed = self.done - self.skipped
        remaining = self.total - self.done
        if computed > 0 and remaining > 0:
            eta = _fmt_s(elapsed / computed * remaining)
        else:
            eta = "0:00" if remaining == 0 else "?"
        pct = 100 * self.done // self.total if self.total else 100
        filled = _BAR * self.done // self.total if self.total else _BAR
        bar = "#" * filled + "." * (_BAR - filled)
        return (
            f"[{bar}] {self.done}/{self.total} {pct:3d}%  failures {self.failures}  "
            f"elapsed {_fmt_s(elapsed)}  ETA {eta}"
        )

    def update(self, done: int = 1, failed: int = 0) -> None:
        """Count ``done`` more finished points, ``failed`` of them failures."""
        self.done += done
        self.failures += failed
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.done >= self.total):
            self._last = now
            self._draw()

    def _draw(self) -> None:
        text = self.line()
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
