"""The ``edgeopt`` command: list and reproduce experiments, run parameter sweeps.

Exit status: 0 on success, 1 if any point (or figure) failed, 2 for a usage or
configuration error (reported before any work is done).

Examples
--------
.. code-block:: console

    $ edgeopt list
    $ edgeopt list channel
    $ edgeopt reproduce channel --quick --out out
    $ edgeopt reproduce --all
    $ edgeopt sweep examples/sweeps/channel.toml --scheduler tcp://10.0.0.5:8786
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from edgeopt import __version__, repro
from edgeopt._validation import check_choice, invalid_input
from edgeopt.errors import EdgeoptError
from edgeopt.sweep import connect_timeout, parse_executor, probe

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "build_parser"]

_SCHEDULER_HELP = "serial, processes (default), dask (a local cluster), or tcp://HOST:PORT"
#: Failed points listed in a summary (the rest are counted).
_MAX_LISTED = 10


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgeopt`` command."""
    parser = argparse.ArgumentParser(
        prog="edgeopt",
        description="edgeopt: wireless-aware edge AI models, solvers and experiments.",
    )
    parser.add_argument("--version", action="version", version=f"edgeopt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    lst = sub.add_parser(
        "list",
        help="list the registered experiments, one line each, or describe one",
        description="Without NAME: one line per registered experiment.  With NAME: its "
        "summary, seed, constants, common-random-number parameters, and full and quick grids "
        "with their repeats.",
    )
    lst.add_argument("name", nargs="?", help="an experiment to describe")

    rep = sub.add_parser("reproduce", help="run experiments and write figures, data, manifest")
    rep.add_argument("name", nargs="?", help="experiment name (see `edgeopt list`)")
    rep.add_argument("--all", action="store_true", help="reproduce every registered experiment")
    rep.add_argument("--out", default="out", help="output folder (default: out)")
    rep.add_argument("--quick", action="store_true", help="reduced grid for smoke tests")
    rep.add_argument("--scheduler", default="processes", help=_SCHEDULER_HELP)
    rep.add_argument("--force", action="store_true", help="recompute points already stored")
    rep.add_argument("--quiet", action="store_true", help="no progress line")

    swp = sub.add_parser("sweep", help="run a parameter sweep described by a TOML file")
    swp.add_argument("config", metavar="CONFIG.toml", help="sweep configuration (TOML)")
    swp.add_argument(
        "--scheduler", default=None, help=_SCHEDULER_HELP + " (default: the file's executor)"
    )
    swp.add_argument("--store", default=None, help="SQLite results store (default: the file's)")
    swp.add_argument(
        "--out", default=None, help="table to write, .csv or .parquet (default: the file's)"
    )
    swp.add_argument("--force", action="store_true", help="recompute points already stored")
    swp.add_argument("--quiet", action="store_true", help="no progress line")
    return parser


def _lookup(name: str) -> repro.Experiment:
    """A registered experiment by name (an unknown name lists the known ones)."""
    reg = repro.registry()
    return reg[check_choice(name, "name", reg)]


def _cmd_list(args: argparse.Namespace) -> int:
    if args.name is not None:
        print(_lookup(args.name).describe())
        return 0
    for name, exp in repro.registry().items():
        print(f"{name:24s} {exp.summary}")
    return 0


def _print_failures(table: pd.DataFrame, where: str) -> None:
    """List failed points (parameters and the last line of the traceback) on stderr."""
    failed = table[table["error"].notna()]
    if not len(failed):
        return
    names = _param_cols(table)
    print(f"{len(failed)} failed point(s) ({where}):", file=sys.stderr)
    for _, row in failed.head(_MAX_LISTED).iterrows():
        params = {k: row[k] for k in names}
        last = str(row["error"]).strip().splitlines()[-1] if str(row["error"]).strip() else "?"
        print(f"  {params} repeat={row['repeat']}: {last}", file=sys.stderr)
    if len(failed) > _MAX_LISTED:
        print(f"  ... and {len(failed) - _MAX_LISTED} more", file=sys.stderr)


def _param_cols(table: pd.DataFrame) -> list[str]:
    cols = list(table.columns)
    return cols[: cols.index("repeat")] if "repeat" in cols else []


def _summary_line(info: dict[str, Any]) -> str:
    return (
        f"{info.get('points', '?')} point(s): {info.get('computed', '?')} computed, "
        f"{info.get('reused', '?')} reused from the store, {info.get('failures', '?')} failed; "
        f"{info.get('wall_time_s', 0.0):.1f} s on {info.get('executor', '?')}"
    )


def _cmd_reproduce(args: argparse.Namespace) -> int:
    if args.all == (args.name is not None):
        print("edgeopt reproduce: give exactly one of NAME or --all", file=sys.stderr)
        return 2
    spec = parse_executor(args.scheduler)  # a usage error before any experiment runs
    if spec.kind == "address":  # an unreachable scheduler: one clear error, exit status 2
        assert spec.address is not None
        probe(spec.address, connect_timeout())
    if spec.kind in ("dask", "address") and importlib.util.find_spec("distributed") is None:
        raise invalid_input(
            "--scheduler",
            args.scheduler,
            "serial or processes, or the dask extra for a Dask executor: "
            "pip install 'edgeopt[dask]'",
        )
    targets = list(repro.registry().values()) if args.all else [_lookup(args.name)]
    repro.check_out_dir(args.out, "--out")  # an unusable --out: one clear error, before any work
    status = 0
    for exp in targets:
        name = exp.name
        try:
            result = repro.reproduce(
                exp,
                out_dir=args.out,
                quick=args.quick,
                executor=args.scheduler,
                progress=not args.quiet,
                force=args.force,
            )
        except EdgeoptError:
            if not args.all:
                raise
            print(f"edgeopt: {name}: error:\n{traceback.format_exc()}", file=sys.stderr)
            status = max(status, 1)
            continue
        except Exception:
            print(f"edgeopt: {name}: unexpected error:\n{traceback.format_exc()}", file=sys.stderr)
            status = max(status, 1)
            continue
        print(f"{name}: {_summary_line(result.table.attrs.get('sweep', {}))} -> {result.out_dir}")
        _print_failures(result.table, f"tracebacks in {result.out_dir / 'data.csv'}")
        if result.plot_error is not None:
            print(f"{name}: the figure failed:\n{result.plot_error}", file=sys.stderr)
        if not result.ok:
            status = max(status, 1)
    return status


def _cmd_sweep(args: argparse.Namespace) -> int:
    config = repro.load_config(args.config)
    if args.scheduler is not None:
        parse_executor(args.scheduler)
    out = args.out if args.out is not None else config.output
    table = repro.run_config(
        config,
        executor=args.scheduler,
        store=args.store,
        output=out,
        force=args.force,
        progress=not args.quiet,
    )
    store = args.store if args.store is not None else config.store
    print(f"{config.name}: {_summary_line(table.attrs.get('sweep', {}))}")
    print(f"table: {out}  store: {store}")
    _print_failures(table, f"tracebacks in the store {store} and the table {out}")
    return 1 if table["error"].notna().any() else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgeopt`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "reproduce":
            return _cmd_reproduce(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
    except EdgeoptError as exc:
        print(f"edgeopt: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgeopt: interrupted (finished points are in the store)", file=sys.stderr)
        return 130
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
