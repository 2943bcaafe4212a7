"""The ``edgeopt`` command: list and reproduce experiments, run parameter sweeps.

Examples
--------
.. code-block:: console

    $ edgeopt list
    $ edgeopt reproduce channel --quick --out out
    $ edgeopt reproduce --all
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from edgeopt import __version__
from edgeopt.errors import EdgeoptError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgeopt`` command."""
    parser = argparse.ArgumentParser(
        prog="edgeopt",
        description="edgeopt: wireless-aware edge AI models, solvers and experiments.",
    )
    parser.add_argument("--version", action="version", version=f"edgeopt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("list", help="list the registered experiments, one line each")

    rep = sub.add_parser("reproduce", help="run experiments and write figures, data, manifest")
    rep.add_argument("name", nargs="?", help="experiment name (see `edgeopt list`)")
    rep.add_argument("--all", action="store_true", help="reproduce every registered experiment")
    rep.add_argument("--out", default="out", help="output folder (default: out)")
    rep.add_argument("--quick", action="store_true", help="reduced grid for smoke tests")
    rep.add_argument(
        "--scheduler",
        default="processes",
        help="serial, processes (default), dask, or tcp://HOST:PORT of a Dask scheduler",
    )
    return parser


def _cmd_list() -> int:
    from edgeopt.experiments import registry

    for name, exp in registry().items():
        print(f"{name:24s} {exp.summary}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from edgeopt.experiments import registry
    from edgeopt.experiments._runner import reproduce

    if args.all == (args.name is not None):
        print("edgeopt reproduce: give exactly one of NAME or --all", file=sys.stderr)
        return 2
    names = list(registry()) if args.all else [args.name]
    failed = 0
    for name in names:
        result = reproduce(name, out_dir=args.out, quick=args.quick, executor=args.scheduler)
        failed += result.failures
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgeopt`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list()
        if args.command == "reproduce":
            return _cmd_reproduce(args)
    except EdgeoptError as exc:
        print(f"edgeopt: error: {exc}", file=sys.stderr)
        return 2
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
