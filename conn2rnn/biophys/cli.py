"""Command line of the working-memory reproduction.

::

    python -m conn2rnn.biophys.cli run SPEC --out DIR [--runner serial|local|dask] [--workers N]
    python -m conn2rnn.biophys.cli report DIR --docs DOCS_DIR [--name NAME] [--no-dt-check]

``run`` executes (or resumes) every (condition, seed) group of the spec into the
result store ``DIR``; ``report`` writes ``NAME.md`` (default
``brc_working_memory.md``), its summary CSVs and figures (in ``NAME/``) from that
store into ``DOCS_DIR``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .experiment import shipped_spec_path

__all__ = ["add_arguments", "main", "run_args"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``run`` and ``report`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="brc_command", required=True)
    run = sub.add_parser("run", help="run or resume the cue-condition searches of a spec")
    run.add_argument("spec", help="a TOML spec file, or the name of a shipped one (brc_working_memory)")
    run.add_argument("--out", required=True, help="result store folder (reuse it to resume)")
    run.add_argument("--runner", default="serial", choices=("serial", "local", "dask"))
    run.add_argument("--workers", type=int, default=None, help="worker processes (local/dask)")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    rep = sub.add_parser("report", help="write the markdown, CSV and figures from a result store")
    rep.add_argument("store", help="result store folder written by 'run'")
    rep.add_argument("--docs", required=True, help="folder for NAME.md and its figures")
    rep.add_argument("--name", default="brc_working_memory",
                     help="base name of the markdown file and its figure folder (default: brc_working_memory)")
    rep.add_argument("--no-dt-check", action="store_true",
                     help="skip the single-cell comparison of the protocol's dt with 0.025 ms")


def run_args(args: argparse.Namespace) -> int:
    """Execute parsed ``run``/``report`` arguments (from :func:`add_arguments`); returns the exit status."""
    if args.brc_command == "run":
        from .experiment import load_spec, run_protocol

        cfg = load_spec(shipped_spec_path(args.spec))  # checked before anything is written
        table = run_protocol(cfg, args.out, runner=args.runner, n_workers=args.workers,
                             progress=not args.no_progress)
        ids = {f"{c}-seed{s}" for c in cfg["conditions"] for s in cfg["seeds"]}
        print(f"{len(ids & set(table['group_id']))} of {len(ids)} group(s) of the spec recorded in {args.out}")
        return 0
    from .report import write_report

    path = write_report(args.store, args.docs, check_dt=not args.no_dt_check, name=args.name)
    print(f"wrote {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="conn2rnn-brc", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run_args(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
