"""The README's usage example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_usage_example_runs(capsys):
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 12
    exec(compile(code, str(README), "exec"), {})  # noqa: S102 - our own README
    printed = capsys.readouterr().out.strip()
    value = float(printed)
    # Compute time 0.05 s plus at least some air time; finite and positive.
    assert np.isfinite(value) and value > 0.05
