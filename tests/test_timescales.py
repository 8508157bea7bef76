"""Intrinsic timescale estimators and simulated BOLD against closed forms."""

import numpy as np
import pytest
from scipy.signal import lfilter

from conn2rnn.analysis.bold import hrf_kernel, to_bold
from conn2rnn.analysis.timescales import (
    MIN_SAMPLES,
    acf,
    int_acf_sum,
    int_acw,
    int_exp_fit,
    intrinsic_timescales,
    timescales_from_acf,
)

A = np.array([0.6, 0.75, 0.9])  # AR(1) coefficients; a**k stays clear of 0.5 at every lag
T = 200_000


def _ar1(a, t, rng):
    """Stationary unit-variance AR(1) series, one column per coefficient."""
    out = np.empty((t, a.size))
    for j, aj in enumerate(a):
        e = rng.standard_normal(t)
        out[:, j] = lfilter([np.sqrt(1 - aj**2)], [1, -aj], e, zi=[aj * rng.standard_normal()])[0]
    return out


@pytest.fixture(scope="module")
def ar1_series():
    return _ar1(A, T, np.random.default_rng(12345))


# ---------------------------------------------------------------- ACF itself


def test_acf_matches_direct_sums():
    x = np.random.default_rng(0).standard_normal((50, 2)).cumsum(axis=0)
    xc = x - x.mean(axis=0)
    direct = np.array([[np.dot(xc[: 50 - k, j], xc[k:, j]) for j in range(2)] for k in range(20)])
    np.testing.assert_allclose(acf(x, max_lag=19), direct / direct[0], atol=1e-12)
    unb = direct / (50 - np.arange(20))[:, None]
    np.testing.assert_allclose(acf(x, 19, unbiased=True), unb / unb[0], atol=1e-12)


def test_acf_batch_axis_averages_realisations():
    x = np.random.default_rng(1).standard_normal((40, 3, 2))
    expect = np.mean([acf(x[:, b, :]) for b in range(3)], axis=0)
    np.testing.assert_allclose(acf(x), expect, atol=1e-12)


def test_input_is_not_mutated():
    x = np.random.default_rng(2).standard_normal((30, 2))
    before = x.copy()
    intrinsic_timescales(x, method="acw0")
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------- exact ACF


def test_acf_sum_exact_geometric_acf():
    # a**k for k < K, then a negative value: sum = (1 - a**K) / (1 - a) (lag 0 included)
    a, big_k, dt = 0.8, 12, 0.72
    r = np.concatenate([a ** np.arange(big_k), [-0.01, 0.3]])
    closed = (1 - a**big_k) / (1 - a)
    assert timescales_from_acf(r, dt)[0] == pytest.approx(closed * dt, rel=1e-12)
    no_lag0 = timescales_from_acf(r, dt, include_lag0=False)[0]
    assert no_lag0 == pytest.approx((closed - 1) * dt, rel=1e-12)


def test_acw_exact_geometric_and_damped_cosine_acf():
    lags = np.arange(60)
    for a in A:
        r = a**lags
        k = np.ceil(np.log(0.5) / np.log(a))
        assert timescales_from_acf(r, 2.0, method="acw50")[0] == 2.0 * k
        linear = (k - 1) + (a ** (k - 1) - 0.5) / (a ** (k - 1) - a**k)
        got = timescales_from_acf(r, method="acw50", interpolate=True)[0]
        assert got == pytest.approx(linear, rel=1e-12)
        # the linear interpolation of an exponential lies within one lag of ln 0.5 / ln a
        assert abs(got - np.log(0.5) / np.log(a)) < 0.1
    # a**k cos(w k) first turns negative at the first integer lag above pi / (2 w)
    w = 0.07
    r = 0.97**lags * np.cos(w * lags)
    assert timescales_from_acf(r, method="acw0")[0] == np.floor(np.pi / (2 * w)) + 1


def test_exp_fit_exact_acf_recovers_tau():
    dt, tau = 0.5, 3.7
    lag_t = np.arange(40) * dt
    r = np.column_stack([np.exp(-lag_t / tau), 0.8 * (np.exp(-lag_t / tau) + 0.05)])
    r[0] = 1.0
    got = timescales_from_acf(r, dt, method="exp_fit", max_lag=39)
    np.testing.assert_allclose(got, tau, rtol=1e-6)


# ---------------------------------------------------------------- simulated AR(1)


def test_ar1_exp_fit_tau(ar1_series):
    # ACF(k) = a**k = exp(-k dt / tau) with tau = -dt / ln a; over 40 seeds at this T the
    # relative error of the fitted tau had sd <= 0.028, so 0.12 is > 4 sd.
    tau = int_exp_fit(ar1_series, dt=0.5)
    np.testing.assert_allclose(tau, -0.5 / np.log(A), rtol=0.12)


def test_ar1_acw50(ar1_series):
    # ACW-50 = first integer lag above ln 0.5 / ln a; at T = 2e5 the ACF sd is < 0.007,
    # and a**k is >= 0.02 away from 0.5 at every lag for these coefficients.
    steps = np.ceil(np.log(0.5) / np.log(A))
    np.testing.assert_array_equal(int_acw(ar1_series), steps)
    np.testing.assert_array_equal(intrinsic_timescales(ar1_series, 2.0, method="acw50"), 2 * steps)
    interp = int_acw(ar1_series, interpolate=True)
    exact = (steps - 1) + (A ** (steps - 1) - 0.5) / (A ** (steps - 1) - A**steps)
    # error ~ ACF sd / ACF slope at the crossing (<= 0.07 steps over 40 seeds)
    np.testing.assert_allclose(interp, exact, atol=0.3)


def test_ar1_acf_sum(ar1_series):
    r = acf(ar1_series)
    big_k = (r < 0).argmax(axis=0)
    closed = (1 - A**big_k) / (1 - A)
    got = int_acf_sum(ar1_series, dt=0.8)
    # the sum of K sample ACF values has relative sd ~ sqrt(4 K / T) (lag-window
    # spectral estimate at frequency zero); allow 5 sd
    tol = 5 * np.sqrt(4 * big_k / T) * closed
    assert np.all(np.abs(got / 0.8 - closed) < tol)
    assert np.all(big_k > np.log(0.05) / np.log(A))  # crossing lies beyond the decay
    np.testing.assert_allclose(intrinsic_timescales(ar1_series, 0.8), got)


def test_estimators_are_deterministic(ar1_series):
    x = ar1_series[:5000]
    for method in ("acf_sum", "acw50", "acw0", "exp_fit"):
        np.testing.assert_array_equal(
            intrinsic_timescales(x, method=method), intrinsic_timescales(x, method=method)
        )


# ---------------------------------------------------------------- errors and warnings


def test_constant_node_gives_nan_with_warning():
    x = np.random.default_rng(3).standard_normal((200, 3))
    x[:, 1] = 4.2
    with pytest.warns(RuntimeWarning, match=r"constant for nodes \[1\]"):
        tau = int_acf_sum(x)
    assert np.isnan(tau[1]) and np.isfinite(tau[[0, 2]]).all()


def test_no_zero_crossing_warns():
    r = 0.9 ** np.arange(10)
    with pytest.warns(RuntimeWarning, match=r"nodes \[0\] never falls below 0"):
        assert np.isnan(timescales_from_acf(r)[0])


def test_too_short_nan_and_bad_arguments_raise():
    with pytest.raises(ValueError, match=f"at least {MIN_SAMPLES}"):
        int_acf_sum(np.ones((MIN_SAMPLES - 1, 2)))
    x = np.random.default_rng(4).standard_normal((100, 3))
    x[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN/inf.*nodes \[2\]"):
        int_acw(x)
    with pytest.raises(ValueError, match="valid methods: acf_sum, aca50, acw50, acw0, exp_fit"):
        intrinsic_timescales(x[:, :2], method="fwhm")
    with pytest.raises(ValueError, match="dt must be a positive"):
        int_acf_sum(x[:, :2], dt=-1)
    with pytest.raises(ValueError, match="shape"):
        acf(np.zeros((20, 2, 2, 2)))
    with pytest.raises(ValueError, match="level must be in"):
        int_acw(x[:, :2], level=1.5)
    with pytest.raises(ValueError, match="max_lag must be an integer"):
        int_exp_fit(x[:, :2], max_lag=2)


# ---------------------------------------------------------------- BOLD


def test_bold_impulse_response_is_the_sampled_hrf():
    dt_ms, tr_s = 10.0, 0.5
    act = np.zeros((4000, 2))
    act[0, 0] = 1.0
    act[0, 1] = 3.0
    bold = to_bold(act, dt_ms, tr_s)
    assert bold.shape == (int(3999 * 0.01 / 0.5) + 1, 2)
    h = hrf_kernel(dt_ms)
    np.testing.assert_allclose(bold[: len(h) // 50, 0], h[::50][: len(h) // 50], atol=1e-12)
    np.testing.assert_allclose(bold[:, 1], 3 * bold[:, 0], atol=1e-12)
    assert 4.5 <= np.argmax(bold[:, 0]) * tr_s <= 5.5  # canonical HRF peaks near 5 s


def test_bold_constant_input_reaches_input_level_and_interpolates():
    act = np.full((5000, 1, 3), 2.0)
    bold = to_bold(act, 10.0, 0.75, hrf_model="glover")  # 0.75 s = 75 steps
    assert bold.shape == (int(4999 * 0.01 / 0.75) + 1, 1, 3)
    np.testing.assert_allclose(bold[int(33 / 0.75) :], 2.0, atol=1e-9)
    # TR not a multiple of dt: samples lie between model steps
    ramp = np.arange(1000.0)[:, None]
    got = to_bold(ramp, 3.0, 0.1, time_length_s=0.015)  # 5-tap kernel
    conv = np.convolve(ramp[:, 0], hrf_kernel(3.0, time_length_s=0.015))[:1000]
    expect = np.interp(np.arange(len(got)) * 100 / 3, np.arange(1000), conv)
    np.testing.assert_allclose(got[:, 0], expect, atol=1e-9)


def test_bold_errors():
    act = np.zeros((100, 2))
    with pytest.raises(ValueError, match="valid models: spm, glover"):
        to_bold(act, 10.0, 0.5, hrf_model="canonical")
    with pytest.raises(ValueError, match="milliseconds"):
        to_bold(act, 10.0, 2000.0)
    with pytest.raises(ValueError, match="must be >= the model step"):
        to_bold(act, 10.0, 0.001)
    with pytest.raises(ValueError, match="shorter than one TR"):
        to_bold(act, 1.0, 0.5)
    with pytest.raises(ValueError, match=r"shape \(T, N\)"):
        to_bold(np.zeros(100), 10.0, 0.5)


def test_acf_is_statsmodels_default_acf_and_acf_sum_its_zero_crossing_area():
    # statsmodels.tsa.stattools.acf(x, adjusted=False, demean=True): sum_t x_t x_{t+k} / sum_t x_t^2
    # on the demeaned series; the reference bioRNN analysis sums it from lag 0 to the first negative
    rng = np.random.default_rng(11)
    x = np.cumsum(rng.normal(size=(120, 2)), axis=0) * 0.1 + rng.normal(size=(120, 2))
    xc = x - x.mean(axis=0)
    explicit = np.array([[np.sum(xc[: 120 - k, j] * xc[k:, j]) / np.sum(xc[:, j] ** 2) for j in range(2)]
                         for k in range(120)])
    np.testing.assert_allclose(acf(x), explicit, atol=1e-12)
    first_negative = [int(np.flatnonzero(explicit[:, j] < 0)[0]) for j in range(2)]
    area = np.array([explicit[: first_negative[j], j].sum() for j in range(2)])
    np.testing.assert_allclose(int_acf_sum(x, dt=0.5), 0.5 * area, rtol=1e-12)
