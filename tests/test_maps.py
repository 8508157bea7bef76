"""Map comparison with spin and distance-preserving surrogate nulls."""

import dataclasses

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from conn2rnn import load_atlas
from conn2rnn.analysis.maps import (
    MapComparison,
    compare_maps,
    compare_regimes,
    spin_nulls,
    surrogate_nulls,
)


@pytest.fixture
def schaefer100_sphere():
    """Schaefer-100 centroids on the conte69 sphere and their hemispheres ('L'/'R')."""
    graph = load_atlas("schaefer100")
    return graph.sphere_coords, graph.hemispheres


@pytest.fixture
def schaefer100_distance():
    """Centroid coordinates (mm) and Euclidean distances of Schaefer-100."""
    graph = load_atlas("schaefer100")
    return graph.coords, graph.distance("euclidean")


@pytest.fixture
def hbn_int_map():
    return load_atlas("schaefer100", maps=["int_hbn"]).maps["int_hbn"]


def _moran(values, dist):
    w = np.zeros_like(dist)
    off = ~np.eye(len(values), dtype=bool)
    w[off] = 1.0 / dist[off]
    z = values - values.mean()
    return len(values) / w.sum() * (z @ w @ z) / (z @ z)


# ---------------------------------------------------------------- spin nulls


def test_spin_nulls_are_hemisphere_preserving_permutations(schaefer100_sphere):
    coords, hemi = schaefer100_sphere
    idx = np.arange(100.0)
    nulls = spin_nulls(idx, coords, hemi, n_perm=50, seed=3)
    assert nulls.shape == (50, 100)
    np.testing.assert_array_equal(np.sort(nulls, axis=1), np.tile(idx, (50, 1)))
    left = hemi == "L"
    assert np.all(nulls[:, left] < left.sum()) and np.all(nulls[:, ~left] >= left.sum())
    assert not np.any(np.all(nulls == idx, axis=1))  # the identity is never a null
    np.testing.assert_array_equal(nulls, spin_nulls(idx, coords, hemi, n_perm=50, seed=3))
    assert not np.array_equal(nulls, spin_nulls(idx, coords, hemi, n_perm=50, seed=4))
    ints = np.where(left, 0, 1)
    np.testing.assert_array_equal(nulls, spin_nulls(idx, coords, ints, n_perm=50, seed=3))
    gen_a, gen_b = np.random.default_rng(8), np.random.default_rng(8)
    np.testing.assert_array_equal(
        spin_nulls(idx, coords, hemi, n_perm=5, seed=gen_a), spin_nulls(idx, coords, hemi, n_perm=5, seed=gen_b)
    )


def test_map_against_itself_spin_p_at_floor(schaefer100_sphere, hbn_int_map):
    coords, hemi = schaefer100_sphere
    res = compare_maps(
        hbn_int_map, hbn_int_map, nulls="spin", sphere_coords=coords, hemispheres=hemi, n_perm=1000
    )
    assert res.r == pytest.approx(1.0)
    assert res.p_null == pytest.approx(1 / 1001)  # no rotation reproduces the map
    assert res.null == "spin" and res.n_perm == 1000 and res.n == 100


def test_spin_p_uniform_for_independent_noise(schaefer100_sphere):
    coords, hemi = schaefer100_sphere
    p = []
    for s in range(30):
        rng = np.random.default_rng(1000 + s)
        x, y = rng.standard_normal(100), rng.standard_normal(100)
        res = compare_maps(x, y, nulls="spin", sphere_coords=coords, hemispheres=hemi, n_perm=100, seed=s)
        p.append(res.p_null)
    # 30 p values on a grid of 1/101: a KS test against U(0, 1) must not reject
    assert stats.kstest(p, "uniform").pvalue > 0.01


def test_spin_p_near_nominal_for_independent_smooth_maps(schaefer100_sphere):
    coords, hemi = schaefer100_sphere
    # independent isotropic smooth fields: white noise blurred by a Gaussian kernel
    # (sd 40 on the radius-100 sphere) within each hemisphere
    kernel = np.exp(-cdist(coords, coords) ** 2 / (2 * 40.0**2)) * (hemi[:, None] == hemi[None, :])
    n_sig_spin = n_sig_param = 0
    for s in range(40):
        rng = np.random.default_rng(s)
        x, y = kernel @ rng.standard_normal(100), kernel @ rng.standard_normal(100)
        res = compare_maps(x, y, nulls="spin", sphere_coords=coords, hemispheres=hemi, n_perm=100, seed=s)
        n_sig_spin += res.p_null < 0.05
        n_sig_param += res.p_parametric < 0.05
    # measured: 14 / 40 naive false positives, 3 / 40 with spins (nominal 2);
    # P(>= 7 of 40 | 5 %) = 0.004
    assert n_sig_param >= 10
    assert n_sig_spin <= 6


# ---------------------------------------------------------------- surrogate nulls


def test_surrogates_keep_values_and_spatial_autocorrelation(schaefer100_distance):
    xyz, dist = schaefer100_distance
    rng = np.random.default_rng(0)
    smooth = xyz[:, 1] + 10 * rng.standard_normal(100)  # anterior-posterior gradient
    nulls = surrogate_nulls(smooth, dist, n_perm=100, seed=7)
    assert nulls.shape == (100, 100)
    np.testing.assert_allclose(np.sort(nulls, axis=1), np.tile(np.sort(smooth), (100, 1)))
    np.testing.assert_array_equal(nulls, surrogate_nulls(smooth, dist, n_perm=100, seed=7))
    moran_orig = _moran(smooth, dist)
    moran_surr = np.mean([_moran(v, dist) for v in nulls])
    moran_shuffled = np.mean([_moran(rng.permutation(smooth), dist) for _ in range(100)])
    assert moran_orig > 0.15
    assert abs(moran_surr - moran_orig) < 0.3 * moran_orig  # measured: 0.230 vs 0.233
    assert abs(moran_shuffled) < 0.05  # a plain shuffle destroys it (E[I] = -1 / 99)


def test_surrogate_self_comparison_and_precomputed_nulls(schaefer100_distance, hbn_int_map):
    _, dist = schaefer100_distance
    res = compare_maps(hbn_int_map, hbn_int_map, nulls="surrogate", distance=dist, n_perm=200, seed=1)
    assert res.p_null == pytest.approx(1 / 201) and res.null == "surrogate"
    nulls = surrogate_nulls(hbn_int_map, dist, n_perm=200, seed=1)
    y = np.random.default_rng(2).standard_normal(100)
    a = compare_maps(hbn_int_map, y, nulls=nulls)
    b = compare_maps(hbn_int_map, y, nulls="surrogate", distance=dist, n_perm=200, seed=1)
    assert a.null == "precomputed" and a.p_null == b.p_null and a.r == b.r
    expect = (1 + np.sum(np.abs([stats.spearmanr(v, y)[0] for v in nulls]) >= abs(a.r))) / 201
    assert a.p_null == pytest.approx(expect)


# ---------------------------------------------------------------- compare_maps


def test_compare_maps_parametric_matches_scipy_and_nan_pairs_dropped():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal(40), rng.standard_normal(40)
    for method, fn in (("spearman", stats.spearmanr), ("pearson", stats.pearsonr)):
        res = compare_maps(x, y, method=method)
        ref = fn(x, y)
        assert res.r == pytest.approx(ref[0]) and res.p_parametric == pytest.approx(ref[1])
        assert np.isnan(res.p_null) and res.n_perm == 0 and res.null is None
    x_nan = x.copy()
    x_nan[[3, 7]] = np.nan
    y_nan = y.copy()
    y_nan[7] = np.nan
    y_nan[11] = np.nan
    with pytest.warns(RuntimeWarning, match="dropped 3 of 40 regions"):
        res = compare_maps(x_nan, y_nan)
    keep = np.ones(40, bool)
    keep[[3, 7, 11]] = False
    assert res.r == pytest.approx(stats.spearmanr(x[keep], y[keep])[0])
    assert res.n == 37 and res.n_dropped == 3
    assert np.isnan(x_nan[3])  # caller's array untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.r = 0.0  # type: ignore[misc]


def test_compare_maps_errors(schaefer100_sphere):
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="valid methods: spearman, pearson"):
        compare_maps(x, x, method="kendall")
    with pytest.raises(ValueError, match="valid choices: None, 'spin', 'surrogate'"):
        compare_maps(x, x, nulls="moran")
    with pytest.raises(ValueError, match="needs sphere_coords"):
        compare_maps(x, x, nulls="spin")
    with pytest.raises(ValueError, match="needs distance"):
        compare_maps(x, x, nulls="surrogate")
    with pytest.raises(ValueError, match="same length"):
        compare_maps(x, x[:5])
    with pytest.raises(ValueError, match=r"shape \(n_perm, 10\)"):
        compare_maps(x, x, nulls=np.zeros((5, 9)))
    with pytest.raises(ValueError, match=r"sphere_coords must have shape \(10, 3\) to match x"):
        compare_maps(x, x, nulls="spin", sphere_coords=np.zeros((9, 3)), hemispheres=np.zeros(10))
    coords, hemi = schaefer100_sphere
    with pytest.raises(ValueError, match="'L'/'R'"):
        spin_nulls(np.arange(100.0), coords, np.full(100, "X"))
    with pytest.raises(ValueError, match=r"sphere_coords must have shape \(100, 3\)"):
        spin_nulls(np.arange(100.0), coords[:, :2], hemi)
    with pytest.raises(ValueError, match="NaN"):
        spin_nulls(np.full(100, np.nan), coords, hemi)
    with pytest.raises(ValueError, match="constant"):
        surrogate_nulls(np.ones(10), np.ones((10, 10)) - np.eye(10))
    with pytest.raises(ValueError, match="symmetric"):
        surrogate_nulls(x, np.triu(np.ones((10, 10)), 1))
    with pytest.raises(TypeError, match="seed must be"):
        spin_nulls(np.arange(100.0), coords, hemi, n_perm=2, seed=1.5)


# ---------------------------------------------------------------- compare_regimes


def test_compare_regimes_statistics():
    rng = np.random.default_rng(9)
    vanilla = [
        MapComparison(r=float(r), p_null=float(p), p_parametric=0.0, n_perm=100, method="spearman",
                      null="spin", n=100, n_dropped=0)
        for r, p in zip(rng.normal(0.05, 0.05, 12), [0.01, 0.2, 0.5, 0.04] * 3)
    ]
    spatial = rng.normal(0.4, 0.05, 15)
    table = compare_regimes({"vanilla": vanilla, "spatial": spatial})
    assert list(table["regime"]) == ["vanilla", "spatial"]
    v, s = table.iloc[0], table.iloc[1]
    assert v["n_networks"] == 12 and s["n_networks"] == 15
    assert v["frac_significant"] == pytest.approx(0.5)  # p = 0.01 and 0.04 of every 4
    r_v = np.array([c.r for c in vanilla])
    sig_v = np.tile([True, False, False, True], 3)
    assert v["frac_significant_positive"] == pytest.approx(np.mean((r_v > 0) & sig_v))
    assert np.isnan(s["frac_significant"]) and np.isnan(v["mwu_p"])
    mwu = stats.mannwhitneyu(spatial, r_v, alternative="two-sided")
    assert s["mwu_u"] == mwu.statistic and s["mwu_p"] == pytest.approx(mwu.pvalue)
    assert s["median_diff_vs_reference"] == pytest.approx(np.median(spatial) - np.median(r_v))
    assert s["r_mean"] == pytest.approx(spatial.mean()) and s["r_sd"] == pytest.approx(spatial.std(ddof=1))
    with pytest.raises(ValueError, match="available: spatial"):
        compare_regimes({"spatial": spatial})
    assert compare_regimes({"spatial": spatial}, reference=None)["mwu_p"].isna().all()


def test_compare_regimes_accepts_r_p_pairs():
    from conn2rnn.analysis.maps import compare_regimes

    table = compare_regimes({"vanilla": [(0.1, 0.5), (0.2, 0.01)], "bio": [(0.4, 0.001), (0.5, 0.002)]})
    bio = table.set_index("regime").loc["bio"]
    assert bio["frac_significant"] == 1.0 and bio["r_mean"] == pytest.approx(0.45)
    assert table.set_index("regime").loc["vanilla", "frac_significant"] == 0.5
