"""Figure output shared by the experiments: every figure is written as PNG and PDF."""

from __future__ import annotations

from typing import Any

__all__ = ["save_figure"]


def save_figure(fig: Any, out_dir: Any, name: str) -> list[Any]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` and close the figure."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    fig.tight_layout()
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths
