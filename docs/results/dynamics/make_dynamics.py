"""Regenerate docs/results/dynamics: the HCP connectome vs nulls vs trained bioRNNs on Lorenz-63.

Usage (from the repository root; one CPU thread, a few minutes)::

    python docs/results/dynamics/make_dynamics.py            # tables (skipped if present) + summaries + figures
    python docs/results/dynamics/make_dynamics.py --recompute

Two settings: inputs and readout on all nodes (``comparison.*``), and inputs on the
visual network with the readout on the default network (``comparison_vis_default.*``).
The full tables (one row per variant, seed and spectral radius) are written to
``<name>.csv``; ``<name>_summary.csv`` (n, mean, sd) and ``<name>.png`` are made from them.
``impulse_recall.csv`` / ``.png``: a pulse into the visual network read out from the
default network, connectome vs the same nulls (``impulse_recall``, state noise 0.01).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch

import conn2rnn
from conn2rnn.analysis.closed_loop import dynamics_comparison, summarize_comparison
from conn2rnn.plotting.dynamics import plot_dynamics_comparison, plot_impulse_recall

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


def _impulse_recall(graph) -> pd.DataFrame:
    """Visual-in, default-out impulse recall of the connectome and each null, per seed."""
    import numpy as np

    from conn2rnn import nulls
    from conn2rnn.analysis import impulse_recall
    from conn2rnn.models import ConnectomeReservoir

    w = np.asarray(graph.connectome)
    rows = []
    for s in range(N_SEEDS):
        mats = {"connectome": w, "rewired": nulls.rewire_degree_preserving(w, directed=False, seed=s),
                "shuffled": nulls.shuffle_weights(w, symmetric=True, seed=s),
                "spatial": nulls.spatial_null(w, graph.distance("euclidean"), symmetric=True, seed=s),
                "random": nulls.random_density_matched(w, symmetric=True, seed=s)}
        for name, mat in mats.items():
            res = ConnectomeReservoir.from_graph(graph.with_connectome(mat), n_inputs=1, input_nodes=("Vis",),
                                                 output_nodes=("Default",), leak=0.3, seed=s)
            rows.append(impulse_recall(res, max_lag=25, scales=(0.9, 1.5), n_trials=400, seed=s)
                        .assign(variant=name, seed=s))
    return pd.concat(rows, ignore_index=True)


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
    recall_path = HERE / "impulse_recall.csv"
    if args.recompute or not recall_path.exists():
        graph = graph or conn2rnn.load_atlas("schaefer100", connectome="enigma_hcp")
        _impulse_recall(graph).to_csv(recall_path, index=False, float_format="%.5g")
    recall = pd.read_csv(recall_path)
    plot_impulse_recall(recall, title=f"impulse recall, Vis -> Default (mean of {N_SEEDS} seeds)",
                        path=HERE / "impulse_recall.png")


if __name__ == "__main__":
    main()
