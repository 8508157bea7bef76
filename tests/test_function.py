"""Selectivity, energy and participation ratio against exact answers."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from conn2rnn.analysis.function import (
    energy,
    mixed_selectivity,
    participation_ratio,
)

# ---------------------------------------------------------------- mixed selectivity


@pytest.fixture(scope="module")
def balanced_design():
    rows = list(itertools.product(["left", "right"], [-1, 1])) * 5
    return pd.DataFrame(rows, columns=["stim", "choice"])


def test_mixed_selectivity_exact_on_balanced_design(balanced_design):
    s = np.where(balanced_design["stim"] == "right", 1.0, -1.0)
    c = balanced_design["choice"].to_numpy(float)
    act = np.column_stack([2 * s + 1, c, s + c, s * c])  # pure, pure, linear mixed, XOR
    out = mixed_selectivity(act, balanced_design, categorical=["choice"])
    expect = pd.DataFrame(
        {
            "stim": [1.0, 0.0, 0.5, 0.0],
            "choice": [0.0, 1.0, 0.5, 0.0],
            "additive": [1.0, 1.0, 1.0, 0.0],
            "full": [1.0, 1.0, 1.0, 1.0],
            "nonlinear": [0.0, 0.0, 0.0, 1.0],
        }
    )
    np.testing.assert_allclose(out[expect.columns].to_numpy(), expect.to_numpy(), atol=1e-12)
    assert out.index.name == "unit"
    # (T, B, N) is averaged over time first
    timed = np.stack([act, act + 0.0], axis=0)
    pd.testing.assert_frame_equal(mixed_selectivity(timed, balanced_design, categorical=["choice"]), out)


def test_mixed_selectivity_eta2_matches_anova_and_continuous_r2():
    rng = np.random.default_rng(0)
    n = 120
    variables = pd.DataFrame({"ctx": rng.choice(["a", "b", "c"], n), "coh": rng.normal(size=n)})
    act = rng.normal(size=(n, 3))
    act[:, 0] += (variables["ctx"] == "b") * 1.5
    act[:, 1] += 0.8 * variables["coh"]
    out = mixed_selectivity(act, variables)
    for j in range(3):
        groups = [act[variables["ctx"] == g, j] for g in ("a", "b", "c")]
        f = stats.f_oneway(*groups).statistic  # eta^2 = F (k-1) / (F (k-1) + n - k)
        assert out.loc[j, "ctx"] == pytest.approx(f * 2 / (f * 2 + n - 3))
        assert out.loc[j, "coh"] == pytest.approx(np.corrcoef(act[:, j], variables["coh"])[0, 1] ** 2)
    assert out["full"].isna().all()  # a continuous variable: no factorial model


def test_mixed_selectivity_errors_and_constant_units(balanced_design):
    act = np.random.default_rng(1).normal(size=(20, 3))
    act[:, 2] = 5.0
    with pytest.warns(RuntimeWarning, match=r"units \[2\] are constant"):
        out = mixed_selectivity(act, balanced_design, categorical=["choice"])
    assert out.loc[2].isna().all() and out.loc[0].notna().all()
    with pytest.raises(ValueError, match=r"one row per trial \(20\)"):
        mixed_selectivity(act, balanced_design.iloc[:10])
    with pytest.raises(ValueError, match="unknown columns"):
        mixed_selectivity(act, balanced_design, categorical=["colour"])
    with pytest.raises(TypeError, match="DataFrame"):
        mixed_selectivity(act, balanced_design.to_numpy())


# ---------------------------------------------------------------- energy and dimensionality


def test_energy():
    act = np.array([[[1.0, -3.0]], [[-2.0, 0.0]]])  # (T=2, B=1, N=2)
    assert energy(act) == pytest.approx(1.5)
    np.testing.assert_allclose(energy(torch.tensor(act), per_unit=True), [1.5, 1.5])


def test_participation_ratio_exact_spectrum():
    # data whose sample covariance has eigenvalues exactly s^2 / (n - 1)
    rng = np.random.default_rng(2)
    n, s = 200, np.array([3.0, 2.0, 1.0, 0.5, 0.1])
    u = rng.normal(size=(n, 5))
    u, _ = np.linalg.qr(u - u.mean(axis=0))  # orthonormal, centred columns
    v, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    x = u @ np.diag(s) @ v.T + 7.0
    lam = s**2
    assert participation_ratio(x) == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), rel=1e-10)
    assert participation_ratio(x.reshape(50, 4, 5)) == pytest.approx(participation_ratio(x))
    # large samples from a known covariance: PR of the population spectrum
    pop = np.array([4.0, 1.0, 1.0, 0.25])
    z = rng.normal(size=(200_000, 4)) * np.sqrt(pop)
    assert participation_ratio(z) == pytest.approx(pop.sum() ** 2 / (pop**2).sum(), rel=0.01)
    with pytest.raises(ValueError, match="constant"):
        participation_ratio(np.ones((10, 3)))
