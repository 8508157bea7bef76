"""Regenerate docs/results/dynamics: the HCP connectome vs nulls vs trained bioRNNs on Lorenz-63.

Usage (from the repository root; one CPU thread, a few minutes)::

    python docs/results/dynamics/make_dynamics.py            # table (skipped if present) + summary + figure
    python docs/results/dynamics/make_dynamics.py --recompute

The full table (one row per variant, seed and spectral radius) is written to
``comparison.csv``; ``summary.csv`` (n, mean, sd) and ``comparison.png`` are made from it.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recompute", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table_path = HERE / "comparison.csv"
    if args.recompute or not table_path.exists():
        graph = conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
        table = dynamics_comparison(graph, radii=RADII, n_seeds=N_SEEDS, trained=_trained(graph))
        table.to_csv(table_path, index=False)
    table = pd.read_csv(table_path)
    summarize_comparison(table).to_csv(HERE / "summary.csv", index=False, float_format="%.4g")
    plot_dynamics_comparison(table, path=HERE / "comparison.png")


if __name__ == "__main__":
    main()
