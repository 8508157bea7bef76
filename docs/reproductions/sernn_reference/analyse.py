"""The seRNN paper's analysis of a `sernn_reference` store (weights snapshotted every epoch).

    python docs/reproductions/sernn_reference/analyse.py measure STORE GROUP_ID OUTDIR
    python docs/reproductions/sernn_reference/analyse.py report OUTDIR docs/reproductions/sernn_reference

`measure` writes OUTDIR/<group>.csv (the paper's measures of every snapshot, the
degree-preserving small-worldness at the last epoch); `report` pools them into the
tables and figures of docs/reproductions/sernn.md.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from conn2rnn.analysis.matched import compare_matched, snapshot_measures
from conn2rnn.graph import BrainGraph

L1, SE = "l1_reference", "sernn_reference"
CRITERION = 0.9
MEASURES = ("modularity_q", "sigma_degree_preserving", "sigma_gnm", "sigma_demo")


def measure(store: str, group: str, outdir: str) -> None:
    d = BrainGraph.from_grid((5, 5, 4)).distance("euclidean")
    frame = snapshot_measures(store, group=group, distance=d, n_null=3, itr=3)
    Path(outdir).mkdir(parents=True, exist_ok=True)
    frame.to_csv(Path(outdir) / f"{group}.csv", index=False)


def _fmt(x, digits=3):
    return "nan" if not np.isfinite(x) else f"{x:.{digits}g}"


def _mwu(frame, col):
    a = frame.loc[frame["regime"] == L1, col].dropna()
    b = frame.loc[frame["regime"] == SE, col].dropna()
    p = stats.mannwhitneyu(a, b).pvalue if min(len(a), len(b)) >= 3 else np.nan
    return a, b, p


def report(outdir: str, docs: str) -> None:
    docs = Path(docs)
    (docs / "figures").mkdir(parents=True, exist_ok=True)
    frame = pd.concat([pd.read_csv(p) for p in sorted(Path(outdir).glob("*.csv"))], ignore_index=True)
    last_by = frame.groupby("regime")["step"].max()  # an unfinished group stops earlier
    final = frame[frame["step"] == frame["regime"].map(last_by)].copy()
    last = int(last_by.min())
    final["at_criterion"] = final["accuracy"] >= CRITERION
    lines = [f"networks: {final.groupby('regime').size().to_dict()}, last snapshot {last_by.to_dict()}"]
    # per strength, final epoch
    agg = final.groupby(["regime", "strength"]).agg(
        n=("run_id", "size"), n_at_criterion=("at_criterion", "sum"), accuracy=("accuracy", "mean"),
        total_abs_w=("total_abs_w", "median"), wiring_cost=("wiring_cost", "median"),
        max_degree=("max_degree", "median"), modularity_q=("modularity_q", "median"),
        sigma_degree_preserving=("sigma_degree_preserving", "median"), sigma_gnm=("sigma_gnm", "median"),
        sigma_demo=("sigma_demo", "median")).reset_index()
    agg.to_csv(docs / "by_strength.csv", index=False)
    ok = final[final["at_criterion"]]
    rows = []
    for col in ("total_abs_w", "wiring_cost", "max_degree", *MEASURES):
        a, b, p = _mwu(ok, col)
        rows.append({"measure": col, "n_l1": len(a), "l1_median": a.median(), "l1_iqr": a.quantile(.75) - a.quantile(.25),
                     "n_sernn": len(b), "sernn_median": b.median(),
                     "sernn_iqr": b.quantile(.75) - b.quantile(.25), "p_mwu": p})
    pooled = pd.DataFrame(rows)
    pooled.to_csv(docs / "pooled_final.csv", index=False)
    # matched total weight: final epoch, and over training (every epoch after the first)
    matched, bins = [], []
    every = frame[(frame["step"] > 0) & (frame["accuracy"] >= CRITERION)]
    anyacc = frame[frame["step"] > 0]
    for label, data in (("last snapshot", ok), ("all snapshots", every), ("anyacc snapshots", anyacc)):
        lo = max(data.loc[data["regime"] == r, "total_abs_w"].min() for r in (L1, SE))
        hi = min(data.loc[data["regime"] == r, "total_abs_w"].max() for r in (L1, SE))
        edges = np.linspace(lo, hi, 6) if hi > lo else None
        for col in MEASURES:
            if edges is None:
                continue
            table, summary = compare_matched(data, col, groups=(L1, SE), edges=edges, n_perm=2000)
            table.insert(0, "measure", col)
            table.insert(0, "snapshots", label)
            bins.append(table)
            matched.append({"snapshots": label, "measure": col, **summary,
                            "total_w_low": lo, "total_w_high": hi})
    pd.DataFrame(matched).to_csv(docs / "matched_summary.csv", index=False)
    pd.concat(bins, ignore_index=True).to_csv(docs / "matched_bins.csv", index=False)
    _figures(frame, docs, last)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print("\n".join(lines))
        print(agg.to_string())
        print(pooled.to_string())
        print(pd.DataFrame(matched).to_string())
        print(pd.read_csv(docs / "matched_bins.csv").to_string())


def _figures(frame, docs, last):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {L1: "tab:gray", SE: "tab:green"}
    ok = frame[frame["accuracy"] >= CRITERION]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, col in zip(axes, ("modularity_q", "sigma_gnm", "sigma_demo")):
        for r, c in colors.items():
            sub = ok[(ok["regime"] == r) & (ok["step"] > 0)]
            ax.scatter(sub["total_abs_w"], sub[col], s=6, alpha=0.4, color=c, label=r)
        ax.set_xlabel("total weight sum |W|")
        ax.set_ylabel(col)
    axes[0].legend(frameon=False, markerscale=3)
    fig.suptitle("every recorded snapshot after the start, networks at >= 90% held-out accuracy")
    fig.tight_layout()
    fig.savefig(docs / "figures" / "topology_vs_total_weight.png", dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    fin = ok[ok["step"] == ok["regime"].map(ok.groupby("regime")["step"].max())]
    for r, c in colors.items():
        sub = fin[fin["regime"] == r]
        axes[0].scatter(sub["total_abs_w"], sub["sigma_degree_preserving"], s=10, color=c, label=r)
        curve = frame[frame["regime"] == r].groupby(["strength", "step"])["total_abs_w"].median().reset_index()
        for s, g in curve.groupby("strength"):
            axes[1].plot(g["step"] / 40, g["total_abs_w"], color=c, alpha=0.7)
    axes[0].axhline(1.0, color="k", lw=0.5)
    axes[0].set_xlabel("total weight sum |W| (last snapshot)")
    axes[0].set_ylabel("sigma, degree-preserving null")
    axes[0].legend(frameon=False)
    axes[1].set_xlabel("epoch (40 steps of 128 problems)")
    axes[1].set_ylabel("median total weight, one line per strength")
    fig.tight_layout()
    fig.savefig(docs / "figures" / "sigma_degree_and_weight_over_training.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        measure(*sys.argv[2:5])
    elif sys.argv[1] == "report":
        report(*sys.argv[2:4])


def from_checkpoint(checkpoint: str, out_group: str) -> None:
    """Snapshots recorded so far by an unfinished group, written as a finished group's files."""
    import json

    import torch

    from conn2rnn.fitting.snapshots import Snapshots, save_snapshots

    c = torch.load(checkpoint, weights_only=False)
    meta = json.loads(c["meta"])["fingerprint"]
    rows = {k: v.numpy() for k, v in c["snapshots"]["rows"].items()}
    table = pd.DataFrame(rows)
    for col in ("step", "trials", "network", "seed"):
        table[col] = table[col].astype(np.int64)
    weights = np.stack([w.numpy() for w in c["snapshots"]["weights"]])
    steps = np.array(sorted(set(table["step"])), dtype=np.int64)
    out = Path(out_group)
    save_snapshots(Snapshots(table, weights, steps), out / "snapshots.npz")
    run_ids = [f"one_choice_inference/{r['name']}/lambda={r['strength']:g}/seed={s}"
               for r, s in zip(meta["regimes"], meta["model"]["seeds"])]
    table.insert(0, "run_id", [run_ids[k] for k in table["network"]])
    table.to_csv(out / "snapshots.csv", index=False)


if __name__ == "__main__" and sys.argv[1] == "checkpoint":
    from_checkpoint(sys.argv[2], sys.argv[3])
