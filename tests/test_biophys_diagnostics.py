"""Diagnostics of the working-memory reproduction: synthetic memories, readout ceiling, cue encoding."""

import numpy as np
import pytest

from conn2rnn.biophys import (
    BiophysicalReservoir,
    CueEncoding,
    cue_encoding,
    memory_error,
    readout_ceiling,
    synthetic_memory,
)


def test_synthetic_memory_rates_and_layout():
    clean, batch = synthetic_memory(30.0, n_repeats=3, n_cells=8, base_hz=10.0, tau_filter_ms=10.0,
                                    poisson=False, seed=1)
    assert clean.shape == (1000, 12, 8) and batch.dt == 1.0
    cond = batch.info["condition"].to_numpy()
    steady = 1.0 / (1.0 - np.exp(-0.1))  # filtered steady state of one count per 1 ms bin (tau 10 ms)
    # before the cue every cell sits at base rate; late in the delay, preferred cells at base + delta
    assert clean[240, 0, 0] == pytest.approx(10e-3 * steady)
    for trial, c in enumerate(cond):
        pref = np.arange(8) % 4 == c
        np.testing.assert_allclose(clean[-1, trial, pref], 40e-3 * steady)
        np.testing.assert_allclose(clean[-1, trial, ~pref], 10e-3 * steady)
    # Poisson draws are seeded and are the expected counts on average
    a, _ = synthetic_memory(30.0, n_cells=8, seed=2)
    b, _ = synthetic_memory(30.0, n_cells=8, seed=2)
    np.testing.assert_array_equal(a, b)
    big, _ = synthetic_memory(0.0, n_repeats=2, n_cells=400, base_hz=20.0, seed=0)
    assert big[100:].mean() == pytest.approx(20e-3 * steady, rel=0.05)


def test_synthetic_memory_bad_input():
    with pytest.raises(ValueError, match="delta_hz"):
        synthetic_memory(-1.0)
    with pytest.raises(ValueError, match="n_repeats"):
        synthetic_memory(5.0, n_repeats=1)
    with pytest.raises(ValueError, match="tau_filter_ms"):
        synthetic_memory(5.0, tau_filter_ms=0.0)
    with pytest.raises(ValueError, match="n_cells"):
        synthetic_memory(5.0, n_cells=0)


def test_readout_ceiling_table():
    table = readout_ceiling((0.0, 50.0), (10.0,), seeds=(0, 1))
    assert list(table.columns) == ["delta_hz", "tau_filter_ms", "error_mean", "error_sd", "n_seeds",
                                   "error_noise_free"]
    assert table["n_seeds"].tolist() == [2, 2]
    none, strong = table.itertuples()
    assert none.error_mean > 3.9 and strong.error_mean < 1.5  # chance is 4
    assert strong.error_noise_free < strong.error_mean
    # each cell of the table is memory_error of synthetic_memory at that seed
    errs = [memory_error(*synthetic_memory(50.0, seed=s)) for s in (0, 1)]
    assert strong.error_mean == pytest.approx(np.mean(errs))
    assert strong.error_sd == pytest.approx(np.std(errs, ddof=1))
    one = readout_ceiling((0.0,), (10.0,), seeds=(0,))
    assert np.isnan(one["error_sd"].iloc[0])
    with pytest.raises(ValueError, match="non-empty"):
        readout_ceiling((), (10.0,))
    with pytest.raises(ValueError, match="taus_ms"):
        readout_ceiling((5.0,), (-10.0,))


class _Encoder:
    """Closed-form double of the model's cue encoder: unit j fires ``rate_j`` Hz while the cue is on."""

    dt_ms = 1.0

    def __init__(self, unit_rates, e_mask, i_mask):
        self.unit_rates = np.asarray(unit_rates, dtype=float)  # (4, n_cue), per cue
        self.cue_e_mask, self.cue_i_mask = np.asarray(e_mask, bool), np.asarray(i_mask, bool)

    def cue_rates(self, inputs):
        x = np.asarray(inputs)
        # trials cycle through the four cues; the cue-on channel gates the rates
        return x[..., 2:3] * self.unit_rates[np.arange(x.shape[1]) % 4][None]


def test_cue_encoding_closed_form():
    rates = np.array([[100.0, 0.0, 40.0], [0.0, 200.0, 0.0], [100.0, 100.0, 0.0], [0.0, 0.0, 0.0]])
    e_mask = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 1]])  # cell 2 has no cue connection
    i_mask = np.array([[1, 1, 0]])
    enc = cue_encoding(_Encoder(rates, e_mask, i_mask), min_spikes=3.0)
    assert isinstance(enc, CueEncoding)
    unit = rates * 25e-3  # 25 ms cue: rate x duration
    np.testing.assert_allclose(enc.unit_spikes, unit)
    np.testing.assert_allclose(enc.drive_e, unit @ e_mask.T)
    np.testing.assert_allclose(enc.drive_i, unit @ i_mask.T)
    assert (enc.drive_e[:, 2] == 0).all()  # no cue connections, no cue spikes
    t = enc.table
    np.testing.assert_allclose(t["cue_unit_spikes"], unit.sum(axis=1))
    np.testing.assert_allclose(t["spikes_to_e"], (unit @ e_mask.T).sum(axis=1))
    # cue 0 brings 3.5, 0, 0, 3.5 expected spikes to the four E cells, cue 2 brings 2.5, 2.5, 0, 5
    assert t["e_cells_reached"].tolist() == [2, 2, 1, 0]  # at >= 3 spikes
    assert t["e_cells_connected"].tolist() == [3, 3, 3, 3]
    assert t[["x1", "x2"]].to_numpy().tolist() == [[-2, -2], [-2, 2], [2, -2], [2, 2]]
    assert enc.correlation.shape == (4, 4) and enc.correlation[0, 0] == pytest.approx(1.0)
    assert np.isnan(enc.correlation[3]).all()  # cue 3 delivers nothing: undefined correlation
    with pytest.raises(ValueError, match="min_spikes"):
        cue_encoding(_Encoder(rates, e_mask, i_mask), min_spikes=0.0)
    with pytest.raises(TypeError, match="BiophysicalReservoir"):
        cue_encoding(object())


def test_cue_encoding_of_the_model():
    model = BiophysicalReservoir({}, dt=0.1, seed=0)
    enc = cue_encoding(model)
    assert enc.unit_spikes.shape == (4, model.n_cue) and enc.drive_e.shape == (4, model.wiring.n_e)
    assert enc.drive_i.shape == (4, model.wiring.n_i)
    # expected cue-unit spikes = peak rate x cue duration x tuning
    diff = (np.array([[-2.0, -2.0], [-2.0, 2.0], [2.0, -2.0], [2.0, 2.0]])[:, None] - model.cue_preferred) \
        / model.cue_width
    tuning = np.exp(-diff ** 2).sum(axis=-1) / 2.0
    np.testing.assert_allclose(enc.unit_spikes, model.cue_rate_hz * 25e-3 * tuning)
    assert (enc.drive_e[:, 1::2] == 0).all()  # odd E cells (the readout) get no cue input
    np.testing.assert_array_equal(enc.table["e_cells_connected"], (model.cue_e_mask.sum(axis=1) > 0).sum())
