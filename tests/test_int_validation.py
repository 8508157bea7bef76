"""INT validation: recovery self-test, untrained / spun-tau / spun-geometry controls on a tiny
synthetic ensemble, and the comparison statistics checked against scipy computed independently."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conn2rnn.analysis.int_validation import (
    check_empirical_map,
    empirical_null_maps,
    int_comparison_table,
    int_network_table,
    node_permutations,
    recovery_self_test,
    spun_geometry_graph,
    spun_geometry_model,
    spun_tau_model,
    untrained_baseline,
)
from conn2rnn.analysis.resting import ModelINTs, model_ints
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN

N = 24


@pytest.fixture(scope="module")
def graph():
    """A synthetic two-hemisphere graph with sphere coordinates (12 nodes per hemisphere)."""
    rng = np.random.default_rng(0)
    hemi = np.array(["L"] * 12 + ["R"] * 12)
    sphere = rng.normal(size=(N, 3))
    sphere *= 100.0 / np.linalg.norm(sphere, axis=1, keepdims=True)
    coords = 0.5 * sphere + np.where(hemi == "L", -30.0, 30.0)[:, None] * np.array([1.0, 0.0, 0.0])
    nets = np.tile(["Vis", "SomMot", "Cont", "Default"], N // 4)
    return BrainGraph.from_arrays([f"n{i}" for i in range(N)], coords, hemispheres=hemi, networks=nets,
                                  gradient=np.linspace(0.0, 1.0, N), sphere_coords=sphere,
                                  metadata={"synthetic": True})


def _build(graph, **kw):
    return BioRNN.from_graph(graph, "gonogo", "bio", n_networks=3, seeds=[5, 6, 7], tau="gradient",
                             tau_range=(100.0, 1000.0), **kw)


@pytest.fixture(scope="module")
def trained(graph):
    """A from_graph ensemble whose weights moved away from their initial values (as after training)."""
    model = _build(graph)
    with torch.no_grad():
        model.w_rec_raw.add_(0.05 * torch.randn(model.w_rec_raw.shape, generator=torch.Generator().manual_seed(1)))
    return model


# ----------------------------------------------------------------------- recovery self-test
def test_recovery_passes_for_raw_acf_sum_and_acw50():
    for estimator in ("acf_sum", "acw50"):
        res = recovery_self_test(estimator=estimator)
        assert res.passed and res.rho >= 0.8 and res.reason is None
        assert res.tau_ms.shape == res.recovered_s.shape == (20,)
        assert res.settings["route"] == "raw" and np.isfinite(res.recovered_s).all()
    again = recovery_self_test()
    np.testing.assert_array_equal(again.recovered_s, recovery_self_test().recovered_s)
    other = recovery_self_test(seed=1)
    assert not np.array_equal(other.recovered_s, again.recovered_s)
    row = again.to_dict()
    assert row["passed"] and row["n_nodes"] == row["n_valid"] == 20 and row["estimator"] == "acf_sum"


def test_recovery_flags_a_too_short_bold_route_and_fails_a_short_one():
    refused = recovery_self_test(route="bold")  # 1200 steps of 50 ms: 39 BOLD samples
    assert not refused.passed and np.isnan(refused.rho)
    assert refused.reason.startswith("route refused") and "n_steps >= 4955" in refused.reason
    forced = recovery_self_test(route="bold", min_bold_samples=0)
    assert forced.settings["n_bold_samples"] == 39
    assert not forced.passed and forced.rho < 0.8 and "threshold" in forced.reason


def test_recovery_checks_its_arguments():
    with pytest.raises(ValueError, match="tau_ms must all be >= dt_ms"):
        recovery_self_test(tau_ms=[10.0, 200.0, 300.0])
    with pytest.raises(ValueError, match="at least 3 finite time constants"):
        recovery_self_test(tau_ms=[100.0, 200.0])
    with pytest.raises(ValueError, match="unknown route"):
        recovery_self_test(route="fmri")
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        recovery_self_test(threshold=1.5)


# ----------------------------------------------------------------------- controls
def test_untrained_baseline_is_the_initial_ensemble(graph, trained):
    before = trained.w_rec_raw.detach().clone()
    base = untrained_baseline(trained)
    fresh = _build(graph)
    for name in ("w_rec_raw", "w_in_raw", "w_out_raw", "tau", "input_mask", "output_mask", "recurrent_mask"):
        assert torch.equal(getattr(base, name), getattr(fresh, name)), name
    assert not torch.equal(base.w_rec_raw, trained.w_rec_raw)
    assert torch.equal(trained.w_rec_raw, before)  # the original is untouched
    assert base.seeds == [5, 6, 7] and base.regimes == trained.regimes
    np.testing.assert_allclose(base.regime_arrays[0].distance, trained.regime_arrays[0].distance)
    ints = {"trained": model_ints(trained, n_steps=300), "untrained": model_ints(base, n_steps=300)}
    assert not np.array_equal(ints["trained"].ints_s, ints["untrained"].ints_s, equal_nan=True)


def test_learned_time_constants_need_the_initial_ones(graph):
    model = BioRNN.from_graph(graph, "gonogo", "bio", n_networks=2, tau="gradient", tau_range=(150.0, 1000.0),
                              learn_tau=True)
    with pytest.raises(ValueError, match="learns its tau.*pass the initial ones as tau="):
        untrained_baseline(model)
    tau0 = np.linspace(200.0, 900.0, N)
    base = untrained_baseline(model, tau=tau0)
    assert base.config["learn_tau"] and torch.allclose(base.tau[0].double(), torch.as_tensor(tau0), rtol=1e-5)


def test_spun_tau_model_permutes_each_networks_map_within_hemispheres(graph, trained):
    spun, perms = spun_tau_model(trained, seed=3)
    tau0 = trained.tau.detach().double().numpy()
    assert perms.shape == (3, N)
    hemi = np.asarray(graph.hemispheres)
    for k in range(3):
        assert sorted(perms[k]) == list(range(N))  # a true permutation
        assert np.array_equal(hemi[perms[k]], hemi)  # spins never cross hemispheres
        np.testing.assert_allclose(spun.tau[k].double().numpy(), tau0[k][perms[k]], rtol=1e-6)
    assert not np.array_equal(perms[0], np.arange(N))
    fresh = _build(graph)
    assert torch.equal(spun.w_rec_raw, fresh.w_rec_raw)  # same seeds, same initial weights
    _, perms2 = spun_tau_model(trained, seed=3)
    np.testing.assert_array_equal(perms, perms2)
    _, sp = spun_tau_model(trained, method="shuffle", seed=3)
    np.testing.assert_array_equal(sp[0], np.random.default_rng(3).permutation(N))


def test_spun_geometry_recomputes_the_spatial_cost_distance(graph, trained):
    spun, perms = spun_geometry_model(trained, seed=2)
    d0 = trained.regime_arrays[0].distance
    assert perms.shape == (3, N) and not np.array_equal(perms[0], perms[1])  # one spin per network
    for k in range(3):
        np.testing.assert_allclose(spun.regime_arrays[k].distance, d0[np.ix_(perms[k], perms[k])])
        assert not np.allclose(spun.regime_arrays[k].distance, d0)
    assert torch.equal(spun.tau, trained.tau)  # time constants stay with their nodes
    assert torch.equal(spun.input_mask, trained.input_mask)  # networks (I/O masks) stay
    assert torch.equal(spun.w_rec_raw, _build(graph).w_rec_raw)  # initial weights
    # regime 'bio' has an L1 spatial cost: strength_k * sum_ij |W_ij| D_ij with network k's spun D
    w = spun.w_rec.detach().double().numpy()
    strengths = spun.strengths.double().numpy()
    expected = [strengths[k] * np.sum(np.abs(w[k]) * d0[np.ix_(perms[k], perms[k])]) for k in range(3)]
    np.testing.assert_allclose(spun.weight_cost().detach().double().numpy(), expected, rtol=1e-5)
    g2, perm = spun_geometry_graph(graph, seed=2)
    assert sorted(perm) == list(range(N))
    np.testing.assert_allclose(g2.coords, graph.coords[perm])
    np.testing.assert_allclose(g2.distance("gradient"), graph.distance("gradient")[np.ix_(perm, perm)])
    assert g2.names == graph.names and g2.metadata["geometry_null"] == {"method": "spin", "seed": 2}


def test_controls_need_provenance_and_sphere_coordinates(graph):
    bare = BioRNN(2, N, 1)
    with pytest.raises(ValueError, match="BioRNN.from_graph"):
        untrained_baseline(bare)
    with pytest.raises(TypeError, match="must be a BioRNN"):
        untrained_baseline(np.zeros(3))
    flat = BrainGraph.from_grid((2, 2, 2))
    with pytest.raises(ValueError, match="needs graph.sphere_coords.*method='shuffle'"):
        node_permutations(flat, 2)
    with pytest.raises(ValueError, match="unknown method 'rotate'"):
        node_permutations(graph, 2, method="rotate")


# ----------------------------------------------------------------------- empirical maps
def test_check_empirical_map_reorders_a_series_and_rejects_bad_maps(graph):
    values = np.arange(N, dtype=float)
    series = pd.Series(values, index=list(graph.names))[::-1]
    np.testing.assert_array_equal(check_empirical_map(series, graph), values)
    with pytest.raises(ValueError, match=r"missing \['n0'\] \(1\), unknown \['x'\]"):
        check_empirical_map(pd.Series(values, index=["x"] + list(graph.names[1:])), graph)
    with pytest.raises(ValueError, match=r"must have shape \(24,\)"):
        check_empirical_map(values[:-1], graph)
    bad = values.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/inf values \(regions \['n3'\]\)"):
        check_empirical_map(bad, graph, name="int map")
    with pytest.raises(ValueError, match="constant"):
        check_empirical_map(np.ones(N), graph)


def test_empirical_null_maps_are_permutations_of_the_map(graph):
    emp = np.linspace(1.0, 2.0, N) ** 2
    spins = empirical_null_maps(emp, graph, n_perm=20, seed=1)
    assert spins.shape == (20, N)
    np.testing.assert_allclose(np.sort(spins, axis=1), np.tile(np.sort(emp), (20, 1)))
    np.testing.assert_array_equal(spins, empirical_null_maps(emp, graph, n_perm=20, seed=1))
    surr = empirical_null_maps(emp, graph, nulls="surrogate", n_perm=5, seed=1)
    np.testing.assert_allclose(np.sort(surr, axis=1), np.tile(np.sort(emp), (5, 1)))
    with pytest.raises(ValueError, match="unknown nulls 'burt'"):
        empirical_null_maps(emp, graph, nulls="burt")


# ----------------------------------------------------------------------- comparison statistics
def _ints(maps, seeds, excluded=None):
    k = len(maps)
    zeros = np.zeros(k, dtype=int)
    return ModelINTs(np.array(maps, dtype=float), zeros, zeros, zeros, np.zeros(k, bool),
                     tuple(excluded or (None,) * k), tuple(seeds), {"estimator": "acf_sum", "route": "raw"})


@pytest.fixture(scope="module")
def conditions(graph):
    rng = np.random.default_rng(7)
    emp = np.linspace(1.0, 2.0, N) + rng.normal(0.0, 0.2, N)
    trained = [emp + rng.normal(0.0, s, N) for s in (0.2, 0.3, 0.4, 0.5, 0.6)]
    untrained = [rng.normal(1.5, 0.3, N) for _ in range(5)]
    nulls = empirical_null_maps(emp, graph, n_perm=200, seed=0)
    return emp, trained, untrained, nulls


def test_comparison_table_against_scipy(graph, conditions):
    emp, trained, untrained, nulls = conditions
    seeds = [10, 11, 12, 13, 14]
    order = [4, 2, 0, 3, 1]  # the baseline lists its networks in another order: pairing is by seed
    ints = {"trained": _ints(trained, seeds),
            "untrained": _ints([untrained[i] for i in order], [seeds[i] for i in order])}
    table = int_comparison_table(ints, emp, graph, null_maps=nulls, n_boot=2000, seed=3).set_index("condition")
    rho_t = np.array([stats.spearmanr(emp, m)[0] for m in trained])
    rho_u = np.array([stats.spearmanr(emp, m)[0] for m in untrained])
    row = table.loc["trained"]
    assert row["n_networks"] == 5 and row["n_defined"] == 5
    np.testing.assert_allclose(row["rho_mean"], rho_t.mean())
    np.testing.assert_allclose(row["rho_median"], np.median(rho_t))
    np.testing.assert_allclose(row["rho_sd"], rho_t.std(ddof=1))
    np.testing.assert_allclose(row["rho_mean_map"], stats.spearmanr(emp, np.mean(trained, axis=0))[0])
    d = rho_t - rho_u
    np.testing.assert_allclose(row["diff_mean"], d.mean())
    np.testing.assert_allclose(row["wilcoxon_p"], stats.wilcoxon(d).pvalue)
    np.testing.assert_allclose(row["diff_d_z"], d.mean() / d.std(ddof=1))
    assert row["n_pairs"] == 5 and row["diff_ci_low"] < d.mean() < row["diff_ci_high"]
    np.testing.assert_allclose(row["ceiling_rho"], stats.spearmanr(emp, graph.gradient)[0])
    assert row["null"] == "precomputed" and row["n_perm"] == 200
    assert np.isnan(table.loc["untrained", "diff_mean"]) and table.loc["untrained", "n_pairs"] == 0
    again = int_comparison_table(ints, emp, graph, null_maps=nulls, n_boot=2000, seed=3).set_index("condition")
    pd.testing.assert_frame_equal(table, again)


def test_network_table_null_p_follows_its_definition(graph, conditions):
    emp, trained, _, nulls = conditions
    table = int_network_table({"trained": _ints(trained[:2], [0, 1])}, emp, graph, null_maps=nulls)
    r0 = stats.spearmanr(emp, trained[0])[0]
    r_null = np.array([stats.spearmanr(n, trained[0])[0] for n in nulls])
    expected = (1 + np.sum(np.abs(r_null) >= abs(r0) - 1e-12)) / (1 + nulls.shape[0])
    np.testing.assert_allclose(table.loc[0, "rho"], r0)
    np.testing.assert_allclose(table.loc[0, "p_null"], expected)
    assert table.loc[0, "n_regions"] == N


def test_excluded_networks_and_missing_nodes(graph, conditions):
    emp, trained, untrained, nulls = conditions
    with_nan = np.array(trained[0])
    with_nan[:4] = np.nan
    maps = [with_nan, trained[1], np.full(N, np.nan)]
    ints = {"trained": _ints(maps, [0, 1, 2], excluded=(None, None, "diverged: 24 of 24 nodes")),
            "untrained": _ints(untrained[:3], [0, 1, 2])}
    per = int_network_table(ints, emp, graph, null_maps=nulls)
    assert per.loc[0, "n_regions"] == N - 4
    np.testing.assert_allclose(per.loc[0, "rho"], stats.spearmanr(emp[4:], with_nan[4:])[0])
    assert np.isnan(per.loc[2, "rho"]) and per.loc[2, "excluded_reason"].startswith("diverged")
    table = int_comparison_table(ints, emp, graph, null_maps=nulls, n_boot=500).set_index("condition")
    assert table.loc["trained", "n_defined"] == 2 and table.loc["trained", "n_excluded"] == 1
    assert table.loc["trained", "n_pairs"] == 2


def test_comparison_table_argument_errors(graph, conditions):
    emp, trained, _, nulls = conditions
    ints = {"trained": _ints(trained[:2], [0, 1])}
    with pytest.raises(ValueError, match=r"baseline 'untrained' is not a condition; have \['trained'\]"):
        int_comparison_table(ints, emp, graph, null_maps=nulls)
    with pytest.raises(ValueError, match="ceiling='sa_axis' is not available"):
        int_comparison_table(ints, emp, graph, null_maps=nulls, baseline=None, ceiling="sa_axis")
    with pytest.raises(ValueError, match="has 5 nodes; the graph has 24"):
        int_network_table({"x": np.zeros((2, 5))}, emp, graph, null_maps=nulls)
    dup = {"a": _ints(trained[:2], [0, 0]), "b": _ints(trained[:2], [0, 1])}
    with pytest.raises(ValueError, match="two networks with one seed"):
        int_comparison_table(dup, emp, graph, null_maps=nulls, baseline="b")
