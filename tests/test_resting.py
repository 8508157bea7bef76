"""Audited model INTs (model_ints / ints_from_activity): closed forms for leaky linear units,
the reference bioRNN ACF area, the BOLD length check, silent / diverged / excluded networks."""

import numpy as np
import pytest

from conn2rnn.analysis.resting import (
    MIN_BOLD_SAMPLES,
    ModelINTs,
    bold_sample_count,
    ints_from_activity,
    model_ints,
)
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.models.reservoir import ConnectomeReservoir
from conn2rnn.models.toggle import ReservoirEnsemble

LEAK = np.array([0.1, 0.25, 0.6])


@pytest.fixture(scope="module")
def leaky():
    """Uncoupled linear leaky units h[t] = (1 - a) h[t-1] + a x[t]: AR(1) with coefficient 1 - a."""
    return ConnectomeReservoir(np.zeros((3, 3)), np.eye(3), leak=LEAK, activation="linear")


@pytest.fixture(scope="module")
def long_run(leaky):
    return {est: model_ints(leaky, dt_ms=100.0, estimator=est, n_steps=60000, washout=200, seed=1)
            for est in ("acf_sum", "acw50", "exp_fit")}


def test_raw_route_matches_ar1_closed_forms(long_run):
    dt_s, phi = 0.1, 1.0 - LEAK
    # ACF(k) = phi^k: its sum from lag 0 is 1 / (1 - phi) = 1 / a steps
    np.testing.assert_allclose(long_run["acf_sum"].ints_s[0], dt_s / LEAK, rtol=0.06)
    # first lag with phi^k < 0.5: 7, 3 and 1 for a = 0.1, 0.25, 0.6 (phi^k at least 0.03 from 0.5)
    np.testing.assert_array_equal(long_run["acw50"].ints_s[0], dt_s * np.array([7, 3, 1]))
    np.testing.assert_allclose(long_run["exp_fit"].ints_s[0], -dt_s / np.log(phi), rtol=0.1)
    res = long_run["acf_sum"]
    assert res.settings["route"] == "raw" and res.settings["units"] == "s"
    assert res.settings["drive_mean"] == 0.5 and res.settings["drive_sd"] == 0.3
    assert res.settings["n_bold_samples"] is None and res.included.all()


def _reference_aca0(ts: np.ndarray, nlags: int = 50) -> float:
    """The reference bioRNN analysis: statsmodels acf(ts, nlags)[:-1], summed before the first negative."""
    x = ts - ts.mean()
    denom = np.sum(x * x)
    ac = np.array([np.sum(x[: x.size - k] * x[k:]) / denom for k in range(nlags + 1)])[:-1]
    neg = np.flatnonzero(ac < 0)
    return float(ac[: neg[0]].sum()) if neg.size else 0.0


def test_acf_sum_is_the_reference_aca0_in_its_50_lag_window():
    rng = np.random.default_rng(3)
    t, n = 500, 6
    noise = rng.normal(0.5, 0.3, size=(t, n))
    act = np.empty_like(noise)
    act[0] = noise[0]
    phi = np.linspace(0.2, 0.9, n)
    for i in range(1, t):
        act[i] = phi * act[i - 1] + noise[i]
    got = ints_from_activity(act[:, None, :], 1000.0, max_lag=49, min_valid_fraction=0.0)  # 1 step = 1 s
    expected = np.array([_reference_aca0(act[:, j]) for j in range(n)])
    crossed = expected > 0
    assert crossed.sum() >= 4
    np.testing.assert_allclose(got.ints_s[0][crossed], expected[crossed], rtol=1e-10)
    assert np.all(np.isnan(got.ints_s[0][~crossed]))  # counted as undefined, not written as 0
    assert got.n_undefined[0] == int((~crossed).sum())


def test_bold_sample_count_and_the_refusal_names_what_to_change(leaky):
    # 0.72 s TR, 50 ms steps: floor((T - 1) * 0.05 / 0.72) + 1 samples, minus ceil(32 / 0.72) = 45
    assert bold_sample_count(1200, 50.0, 0.72) == (83 + 1) - 45  # 59.95 s of activity
    assert bold_sample_count(4955, 50.0, 0.72) == 300 and bold_sample_count(4954, 50.0, 0.72) == 299
    assert MIN_BOLD_SAMPLES == 300
    with pytest.raises(ValueError, match=r"min_bold_samples=300 .*n_steps=1200 at dt_ms=50 ms.*39 samples "
                                         r"at tr_s=0.72 s.*n_steps >= 4955, or route='raw'"):
        model_ints(leaky, dt_ms=50.0, route="bold", n_steps=1200)
    res = model_ints(leaky, dt_ms=50.0, route="bold", n_steps=4955, washout=0)
    assert res.settings["n_bold_samples"] == 300 and res.settings["tr_s"] == 0.72
    assert res.settings["bold_discard_s"] == 32.0 and np.isfinite(res.ints_s).all()
    short = model_ints(leaky, dt_ms=50.0, route="bold", n_steps=1200, min_bold_samples=20)
    assert short.settings["n_bold_samples"] == 39
    with pytest.raises(ValueError, match="at least min_bold_samples=10"):  # the estimators' own floor
        ints_from_activity(np.ones((700, 1, 3)), 50.0, route="bold", min_bold_samples=0)


def _ensemble():
    """Three 6-node linear networks: 3 silent nodes, 4 silent nodes, and a runaway loop."""
    zero = np.zeros((6, 6))
    loop = np.zeros((6, 6))
    loop[0, 1] = loop[1, 0] = 1.5
    members = (
        ConnectomeReservoir(zero, np.r_[np.ones(3), np.zeros(3)][:, None], leak=0.5, activation="linear"),
        ConnectomeReservoir(zero, np.r_[np.ones(2), np.zeros(4)][:, None], leak=0.5, activation="linear"),
        ConnectomeReservoir(loop, np.ones((6, 1)), leak=1.0, activation="linear"),
    )
    return ReservoirEnsemble(members, (10, 11, 12))


def test_silent_and_diverged_nodes_are_counted_and_networks_excluded_with_reasons():
    res = model_ints(_ensemble(), dt_ms=10.0, n_steps=400, washout=10)
    assert isinstance(res, ModelINTs) and res.ints_s.shape == (3, 6)
    np.testing.assert_array_equal(res.n_silent, [3, 4, 0])
    np.testing.assert_array_equal(res.diverged, [False, False, True])
    # only the two nodes of the loop run away, but the whole network is left out
    assert res.n_diverged_nodes.tolist() == [0, 0, 2]
    assert res.excluded[0] is None
    assert "too few nodes with a timescale: 2 of 6 (silent 4" in res.excluded[1]
    assert res.excluded[2].startswith("diverged: 2 of 6 nodes")
    assert np.isfinite(res.ints_s[0, :3]).all() and np.isnan(res.ints_s[0, 3:]).all()
    assert np.isnan(res.ints_s[1:]).all()
    np.testing.assert_array_equal(res.n_valid, [3, 0, 0])
    np.testing.assert_allclose(res.mean_map()[:3], res.ints_s[0, :3])
    table = res.to_frame()
    assert table["seed"].tolist() == [10, 11, 12]
    assert table["n_silent"].tolist() == [3, 4, 0] and table["included"].tolist() == [True, False, False]
    assert table["diverged"].tolist() == [False, False, True]
    with pytest.raises(ValueError):
        res.ints_s[0, 0] = 1.0  # read-only


def test_min_valid_fraction_and_divergence_threshold():
    lenient = model_ints(_ensemble(), dt_ms=10.0, n_steps=400, washout=10, min_valid_fraction=0.0)
    assert lenient.excluded[1] is not None  # 2 nodes: a correlation needs at least 3
    act = np.random.default_rng(0).normal(size=(200, 1, 4))
    act[:, 0, 0] *= 1e3  # large but finite: diverged only beyond the threshold
    assert not ints_from_activity(act, 10.0).diverged[0]
    assert ints_from_activity(act, 10.0, divergence_threshold=100.0).diverged[0]


def test_same_seed_same_numbers_other_seed_other_numbers(leaky):
    a = model_ints(leaky, dt_ms=20.0, n_steps=800, seed=4)
    b = model_ints(leaky, dt_ms=20.0, n_steps=800, seed=4)
    c = model_ints(leaky, dt_ms=20.0, n_steps=800, seed=5)
    np.testing.assert_array_equal(a.ints_s, b.ints_s)
    assert not np.array_equal(a.ints_s, c.ints_s)


def test_biornn_uses_its_own_step_and_reports_its_seeds():
    graph = BrainGraph.from_grid((3, 3, 2), spacing=10.0)
    model = BioRNN.from_graph(graph, "gonogo", "vanilla", n_networks=2, seeds=[3, 8], tau=200.0)
    res = model_ints(model, n_steps=300)
    assert res.settings["dt_ms"] == model.dt_ms and res.seeds == (3, 8)
    assert res.settings["family"] == "biornn" and res.ints_s.shape == (2, graph.n_nodes)


def test_bad_arguments_name_the_argument(leaky):
    with pytest.raises(ValueError, match=r"unknown route 'fmri'; choose one of 'raw', 'bold'"):
        model_ints(leaky, dt_ms=10.0, route="fmri")
    with pytest.raises(ValueError, match=r"unknown estimator 'acw75'; choose one of 'acf_sum'"):
        model_ints(leaky, dt_ms=10.0, estimator="acw75")
    with pytest.raises(ValueError, match="has no physical time step; pass dt_ms"):
        model_ints(leaky)
    with pytest.raises(ValueError, match=r"min_valid_fraction must be in \[0, 1\]"):
        model_ints(leaky, dt_ms=10.0, min_valid_fraction=1.5)
    with pytest.raises(ValueError, match="min_bold_samples must be a non-negative integer"):
        model_ints(leaky, dt_ms=10.0, min_bold_samples=-1)
    with pytest.raises(ValueError, match=r"unknown hrf 'canonical'; choose one of 'spm', 'glover'"):
        model_ints(leaky, dt_ms=10.0, route="bold", n_steps=5000, hrf="canonical")
    with pytest.raises(ValueError, match="max_lag must be None"):
        model_ints(leaky, dt_ms=10.0, max_lag=0)
    with pytest.raises(ValueError, match="n_steps must be >= 10"):
        model_ints(leaky, dt_ms=10.0, n_steps=5)
    with pytest.raises(TypeError, match="mean must be a number"):
        model_ints(leaky, dt_ms=10.0, mean="0.5")
    with pytest.raises(ValueError, match=r"activity must have shape \(T, K, N\)"):
        ints_from_activity(np.zeros((100, 3)), 10.0)
    with pytest.raises(ValueError, match="seeds must have one entry per network"):
        ints_from_activity(np.zeros((100, 2, 3)), 10.0, seeds=[1])
