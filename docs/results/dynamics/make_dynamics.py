"""Regenerate docs/results/dynamics: the HCP connectome vs nulls vs trained bioRNNs on Lorenz-63.

Usage (from the repository root; one CPU thread, a few minutes)::

    python docs/results/dynamics/make_dynamics.py            # tables (skipped if present) + summaries + figures
    python docs/results/dynamics/make_dynamics.py --recompute

Two settings: inputs and readout on all nodes (``comparison.*``), and inputs on the
visual network with the readout on the default network (``comparison_vis_default.*``).
The full tables (one row per variant, seed and spectral radius) are written to
``<name>.csv``; ``<name>_summary.csv`` (n, mean, sd) and ``<name>.png`` are made from them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

import conn2rnn
from conn2rnn.analysis.closed_loop import dynamics_comparison, summarize_comparison
from conn2rnn.plotting.dynamics import plot_dynamics_comparison

HERE = Path(__file__).resolve().parent
RADII = (0.3, 0.6, 0.9, 1.2, 1.5, 2.0)
N_SEEDS = 10


def _trained(graph):
    """Vanilla tanh bioRNNs trained on Go/No-Go (one per seed)."""
    from conn2rnn.fitting.training import train
    from conn2rnn.models import BioRNN

    model = BioRNN.from_graph(graph, "gonogo", "vanilla", n_networks=N_SEEDS, activation="tanh")
    result = train(model, "gonogo", n_steps=300, lr=3e-3, eval_every=100, seed=0, progress=False)
    print("trained Go/No-Go accuracy:", result.final_accuracy.round(3).tolist(), flush=True)
    return model


SETTINGS = {
    "comparison": {},
    "comparison_vis_default": {"input_nodes": ("Vis",), "output_nodes": ("Default",)},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recompute", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    graph = trained = None
    for name, nodes in SETTINGS.items():
        table_path = HERE / f"{name}.csv"
        if args.recompute or not table_path.exists():
            if graph is None:
                graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
                trained = _trained(graph)
            table = dynamics_comparison(graph, radii=RADII, n_seeds=N_SEEDS, trained=trained, **nodes)
            table.to_csv(table_path, index=False)
        table = pd.read_csv(table_path)
        summary = "summary.csv" if name == "comparison" else f"{name}_summary.csv"
        summarize_comparison(table).to_csv(HERE / summary, index=False, float_format="%.4g")
        plot_dynamics_comparison(table, title=None if name == "comparison" else "inputs: Vis, readout: Default",
                                 path=HERE / f"{name}.png")


if __name__ == "__main__":
    main()
