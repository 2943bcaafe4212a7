"""Regenerate the DNN layer profiles of ``edgeopt.profiles`` (``models/*.json``).

Builds each network of :mod:`edgeopt.nn.architectures` (no weights, no download), counts its
multiply-accumulates per layer with torch's ``FlopCounterMode`` and its output activation
sizes with forward hooks (:func:`edgeopt.nn.architectures.profile_layers`), and writes one
JSON file per network beside this script.  Needs the ``torch`` extra.

Usage::

    python models/make_profiles.py            # 224×224, 32-bit activations
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(out_dir: Path = HERE) -> list[Path]:
    """Write ``<name>.json`` for every architecture; return the written paths."""
    import torch

    from edgeopt.nn.architectures import ARCHITECTURES, build_architecture, profile_layers

    written = []
    for name in ARCHITECTURES:
        prof = profile_layers(build_architecture(name), (1, 3, 224, 224), 32)
        doc = {
            "name": name,
            "generator": "models/make_profiles.py",
            "counted_with": (
                f"torch {torch.__version__} FlopCounterMode (MAC = FLOP / 2), forward hooks"
            ),
            **prof,
        }
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
