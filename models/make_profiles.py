"""Regenerate the DNN layer profiles of ``edgeopt.profiles`` (``models/*.json``).

Builds each network of :mod:`edgeopt.nn.architectures` (no weights, no download), counts its
multiply-accumulates per layer with torch's ``FlopCounterMode`` and its output activation
sizes with forward hooks (:func:`edgeopt.nn.architectures.profile_layers`), and writes one
JSON file per network beside this script.  Needs the ``torch`` extra.

Usage::

    python models/make_profiles.py                  # write the profiles (224×224, float32)
    python models/make_profiles.py --check-splits   # check every split against them

``--check-splits`` runs, for every network and every device set closed under predecessors,
the device part, the handed-over tensors and the server part
(:func:`edgeopt.nn.architectures.split_forward`) on a random 224×224 image, and checks that
the output equals the full model's and that the handed-over bits equal the stored profile's.
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


def check_splits(size: int = 224) -> dict[str, dict[str, float]]:
    """Every split of every network: ``{name: {"splits", "max_abs_error", "bits_mismatches"}}``."""
    import torch
    from edgeopt.profiles import load_profile

    from edgeopt.nn.architectures import ARCHITECTURES, build_architecture, split_forward

    torch.manual_seed(0)
    torch.set_num_threads(1)
    report: dict[str, dict[str, float]] = {}
    for name in ARCHITECTURES:
        net = build_architecture(name).eval()
        prof = load_profile(name)
        bits = {layer.name: layer.output_bits for layer in prof.layers}
        bits["input"] = prof.input_bits
        x = torch.randn(1, 3, size, size)
        seen: set[frozenset[str]] = {frozenset()}
        frontier: list[frozenset[str]] = [frozenset()]
        while frontier:
            nxt = []
            for d in frontier:
                for n in net.order:
                    if n not in d and all(i == "input" or i in d for i in net.inputs[n]):
                        e = d | {n}
                        if e not in seen:
                            seen.add(e)
                            nxt.append(e)
            frontier = nxt
        worst, mismatches = 0.0, 0
        with torch.no_grad():
            full = net(x)
            for d in seen:
                out, sent = split_forward(net, x, d)
                worst = max(worst, float((out - full).abs().max()))
                sent_bits = sum(32 * t.numel() for t in sent.values())
                mismatches += int(sent_bits != sum(bits[k] for k in sent))
        report[name] = {"splits": len(seen), "max_abs_error": worst, "bits_mismatches": mismatches}
        print(name, report[name], flush=True)
    return report


if __name__ == "__main__":
    if "--check-splits" in sys.argv[1:]:
        check_splits()
    else:
        for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
            print(p)
