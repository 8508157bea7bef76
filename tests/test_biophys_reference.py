"""The reference network: cue cells, noise cells, wiring, objective and a tiny end-to-end run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.biophys.compartments import point_cell_chain
from conn2rnn.biophys.reference_engine import cue_release
from conn2rnn.biophys.reference_network import (
    CONDITIONS,
    build_reference_circuit,
    from_unit,
    lattice_edges,
    reference_space,
)
from conn2rnn.biophys.reference_task import CUES, ReferenceNetwork, cue_amplitudes, cv_ridge_error


def test_space_has_26_parameters_per_condition():
    for cond, (cue, _, _) in CONDITIONS.items():
        space = reference_space(cond)
        assert len(space) == 26
        names = [s[0] for s in space]
        assert f"{cue}_gS" in names and f"{cue}_pconn" in names
        assert not any("nmda" in n for n in names if not n.startswith("cue"))  # recurrent excitation is AMPA only
    p = from_unit(np.zeros((1, 26)), "NMDA_soma")
    assert p["EE_ampa_gS"][0] == pytest.approx(0.01) and p["cue_Esoma_nmda_gS"][0] == pytest.approx(0.001)
    assert p["E_Leak_gLeak"][0] == pytest.approx(1e-9)
    with pytest.raises(ValueError, match="unit cube"):
        from_unit(np.full((1, 26), 1.5), "NMDA_soma")
    with pytest.raises(ValueError, match="unknown condition"):
        reference_space("GABA_soma")


def test_ring_lattice_has_open_ends_and_no_self_edges():
    adj = lattice_edges(np.arange(50), np.arange(50))
    assert not adj.diagonal().any()
    assert adj[0].sum() == 2 and adj[25].sum() == 4 and not adj[0, 49]
    ei = lattice_edges(np.arange(50), 2 * np.arange(25))  # [I post, E pre]
    assert not ei[1, 2] and ei[1, 1] and ei[1, 3] and ei[1, 4]


def test_masks_grow_with_p_and_are_shared_by_parameter_sets():
    p = from_unit(np.full((3, 26), 0.5), "NMDA_soma")
    p["EE_ampa_pconn"] = np.array([0.1, 0.3, 0.3])
    _, wiring = build_reference_circuit(p, "NMDA_soma")
    m = wiring["EE_ampa"]
    assert (m[0] <= m[1]).all() and (m[1] == m[2]).all() and m[1].sum() > m[0].sum()


def test_cue_amplitudes_and_cue_cells_are_deterministic():
    amp = cue_amplitudes(CUES)
    assert amp.shape == (4, 25) and np.all(amp >= 0) and np.all(amp <= 0.1)
    assert np.array_equal(amp, cue_amplitudes(CUES))
    one = cue_release(amp, (0, 400), 600, 0.05, point_cell_chain())
    two = cue_release(amp, (0, 400), 600, 0.05, point_cell_chain())
    assert torch.equal(one["AMPA"], two["AMPA"]) and torch.equal(one["spikes"], two["spikes"])
    assert one["spikes"].sum() > 0
    strongest = amp.argmax(1)
    assert all(one["spikes"][c, strongest[c]] > 0 for c in range(4))


def test_noise_cells_fire_at_a_low_rate():
    # 0.06 nA white current per 0.025 ms step: the reference's noise cells fire at ~1.5-2 Hz
    chain = point_cell_chain()
    gen = torch.Generator().manual_seed(0)
    n, steps, dt = 40, 16000, 0.025
    from conn2rnn.biophys.reference_channels import advance_gates, channel_current, init_gates
    v = torch.full((n, 4), -70.0, dtype=torch.float64)
    gates = init_gates((n, 4), "hh")
    dens = {"na": torch.tensor(0.05), "k": torch.tensor(0.005), "leak": torch.tensor(1e-4)}
    g_prev, g_next = (torch.tensor(g) for g in chain.coupling())
    from conn2rnn.biophys.compartments import solve_chain
    spikes = 0
    for _ in range(steps):
        gates = advance_gates(gates, v, dt)
        lin, const = channel_current(gates, v, dens)
        const = const.clone()
        const[:, 0] += 0.06 * torch.randn(n, generator=gen, dtype=torch.float64) / chain.areas_um2[0] * 1e5
        new = solve_chain(v, lin, const, g_prev, g_next, dt)
        spikes += int(((v[:, 0] <= 0) & (new[:, 0] > 0)).sum())
        v = new
    rate = spikes / n / (steps * dt / 1000.0)
    assert 0.5 < rate < 5.0


def test_cv_ridge_error_matches_sklearn():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(1)
    cues = np.tile(np.arange(4), 3)
    x = rng.normal(size=(12, 30, 5)) + CUES[cues][:, None, :1]
    err, pred = cv_ridge_error(x, cues)
    errs = []
    for start in range(0, 12, 4):
        val = np.zeros(12, bool)
        val[start:start + 4] = True
        y = np.repeat(CUES[cues][:, None], 30, 1)
        model = Ridge(alpha=2.0).fit(x[~val].reshape(-1, 5), y[~val].reshape(-1, 2))
        errs.append(np.mean((model.predict(x[val].reshape(-1, 5)) - y[val].reshape(-1, 2)) ** 2))
    assert err == pytest.approx(np.mean(errs), rel=1e-10)
    assert pred.shape == (8,)


def test_tiny_network_end_to_end():
    p = from_unit(np.random.default_rng(3).uniform(size=(2, 26)), "NMDA_dend")
    # the cue and the readout window moved early so that the run takes a few hundred steps
    net = ReferenceNetwork(p, "NMDA_dend", dt=0.1, duration_ms=30.0, n_e=4, cue_on_ms=(5.0, 10.0))
    res = net.simulate(np.tile(np.arange(4), 2), seed=5)
    assert res.readout.shape == (2, 8, 126, 2)  # 0.2 ms samples (0.25 / 0.1 rounds to 2 steps) from 5 to 30 ms
    assert res.e_spikes.shape == (2, 8, 3, 4)
    again = net.simulate(np.array([0, 1]), seed=5)
    assert np.array_equal(res.readout[:, :2], again.readout)
    assert np.isfinite(res.readout).all() and not res.diverged.any()
    err, pred = cv_ridge_error(res.readout[0], np.tile(np.arange(4), 2))
    assert np.isfinite(err) and pred.shape == (8,)
