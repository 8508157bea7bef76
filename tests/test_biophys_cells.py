"""Cells, channels and synapses of conn2rnn.biophys against closed forms and physiology."""

import numpy as np
import pytest
import torch

from conn2rnn.biophys import e_cell_geometry, mg_block, receptor, simulate_cell
from conn2rnn.biophys.engine import _advance_receptor, check_dt

PASSIVE = {"na": 0.0, "k": 0.0, "km": 0.0, "cal": 0.0, "cat": 0.0}


def test_geometry_reduction_closed_form():
    geo = e_cell_geometry(300.0)
    # axial resistance 4 Ra L / (pi d^2) of the 2.5 and 1.0 um sections and half the 0.5 um one
    r = sum(4 * 300.0 * (l * 1e-4) / (np.pi * (d * 1e-4) ** 2) for l, d in ((100, 2.5), (100, 1.0), (50, 0.5)))
    assert geo.g_couple_ns == pytest.approx(1e9 / r, rel=1e-12)
    assert geo.dend_area_cm2 == pytest.approx(np.pi * 0.5 * 100 * 1e-8)
    assert geo.soma_area_cm2 == pytest.approx(np.pi * (25 * 25 + 2.5 * 100 + 1.0 * 100) * 1e-8)
    assert e_cell_geometry(10.0).g_couple_ns == pytest.approx(30 * geo.g_couple_ns)


@pytest.mark.parametrize("site", [0, 1])
def test_passive_steady_state_attenuation(site):
    """A steady current into one compartment: deflections solve the 2 x 2 conductance system."""
    geo = e_cell_geometry()
    i_na = 0.02
    inj = np.zeros((1, 2))
    inj[0, site] = i_na
    res = simulate_cell(duration_ms=200.0, dt=0.1, soma_densities=PASSIVE, dend_densities=PASSIVE,
                        i_inj_na=inj, record_dt=1.0)
    dv = res.v[-1, 0, 0] + 70.0
    g_ls, g_ld, g_c = 0.1 * geo.soma_area_cm2 * 1e6, 0.1 * geo.dend_area_cm2 * 1e6, geo.g_couple_ns  # nS
    g = np.array([[g_ls + g_c, -g_c], [-g_c, g_ld + g_c]])
    rhs = np.zeros(2)
    rhs[site] = i_na * 1e3  # pA / nS = mV
    expected = np.linalg.solve(g, rhs)
    np.testing.assert_allclose(dv, expected, rtol=1e-5)
    other = 1 - site
    g_leak_here = g_ls if other == 0 else g_ld
    assert dv[other] / dv[site] == pytest.approx(g_c / (g_c + g_leak_here), rel=1e-5)


def test_dendrite_to_soma_attenuates_more_than_soma_to_dendrite():
    geo = e_cell_geometry()
    g_ls, g_ld = 0.1 * geo.soma_area_cm2 * 1e6, 0.1 * geo.dend_area_cm2 * 1e6
    assert geo.g_couple_ns / (geo.g_couple_ns + g_ls) < 0.25
    assert geo.g_couple_ns / (geo.g_couple_ns + g_ld) > 0.8


@pytest.mark.parametrize("name", ["AMPA", "NMDA", "GABA_A"])
def test_receptor_pulse_and_decay_closed_form(name):
    rec = receptor(name)
    dt = 0.025
    r = torch.zeros(1, dtype=torch.float64)
    trace = []
    for step in range(int(20 / dt)):
        c = torch.ones(1, dtype=torch.float64) if step * dt < 1.0 else torch.zeros(1, dtype=torch.float64)
        r = _advance_receptor(r, c, rec, dt)
        trace.append(float(r))
    trace = np.array(trace)
    rate = rec.alpha + rec.beta
    r1 = rec.alpha / rate * (1 - np.exp(-rate * 1.0))
    assert trace[int(1.0 / dt) - 1] == pytest.approx(r1, rel=1e-9)
    t = (np.arange(trace.size) + 1) * dt
    late = t > 1.0 + 1e-9
    np.testing.assert_allclose(trace[late], r1 * np.exp(-rec.beta * (t[late] - 1.0)), rtol=1e-9)
    assert 1 / rec.beta == pytest.approx({"AMPA": 1 / 0.19, "NMDA": 1 / 0.0066, "GABA_A": 1 / 0.18}[name])


def test_mg_block_curve():
    v = torch.tensor([-100.0, -70.0, -40.0, 0.0, 40.0], dtype=torch.float64)
    expected = 1.0 / (1.0 + np.exp(-0.062 * v.numpy()) / 3.57)
    np.testing.assert_allclose(mg_block(v).numpy(), expected, rtol=1e-12)
    assert float(mg_block(torch.tensor(0.0))) == pytest.approx(3.57 / 4.57)
    assert np.all(np.diff(mg_block(v).numpy()) > 0)


def test_swapped_kinetics():
    fast_nmda = receptor("NMDA", kinetics="AMPA")
    assert (fast_nmda.alpha, fast_nmda.beta, fast_nmda.mg_block) == (1.1, 0.19, True)
    slow_ampa = receptor("AMPA", kinetics="NMDA")
    assert (slow_ampa.alpha, slow_ampa.beta, slow_ampa.mg_block) == (0.072, 0.0066, False)


def test_fi_curve_monotonic_until_depolarisation_block():
    currents = np.array([0.0, 0.1, 0.25, 0.5, 1.0, 3.0])
    res = simulate_cell(duration_ms=150.0, dt=0.1, i_inj_na=currents, record_dt=1.0)
    counts = res.spikes.sum(axis=0)[0, :, 0]
    assert counts[0] == 0
    peak = int(np.argmax(counts))
    assert peak >= 3 and np.all(np.diff(counts[: peak + 1]) > 0)
    assert counts[-1] <= 2  # depolarisation block: at most the onset spike


def _run(synapse, compartment, hold, duration, g_ns=1.0):
    res = simulate_cell(duration_ms=duration, dt=0.1, synapse=synapse, compartment=compartment, g_ns=g_ns,
                        spike_times_ms=(T_SPIKE,), soma_densities=PASSIVE, dend_densities=PASSIVE,
                        i_inj_na=np.array([[hold, 0.0]]), record_dt=0.1)
    return res.v[:, 0, 0]


T_SPIKE = 60.0


def _epsp(synapse, compartment, hold=0.0, duration=100.0, control=None):
    """Synaptic response: the trace minus the same run without the synapse, from the spike on."""
    v = _run(synapse, compartment, hold, duration)
    ctrl = _run(synapse, compartment, hold, duration, g_ns=0.0) if control is None else control
    return (v - ctrl)[int(T_SPIKE / 0.1):]


def test_distal_epsp_attenuated_far_more_than_somatic():
    rest = np.full((1000, 2), _run("AMPA", "soma", 0.0, 100.0, g_ns=0.0)[-1])
    soma_in = _epsp("AMPA", "soma", control=rest)
    dend_in = _epsp("AMPA", "dend", control=rest)
    distal_ratio = dend_in[:, 0].max() / dend_in[:, 1].max()
    assert soma_in[:, 1].max() / soma_in[:, 0].max() > 0.8  # somatic input: dendrite follows the soma
    assert distal_ratio < 0.2
    assert dend_in[:, 0].max() < soma_in[:, 0].max()
    assert dend_in[:, 1].max() > 4 * soma_in[:, 0].max()  # large local EPSP in the thin dendrite


def test_nmda_longer_and_voltage_dependent():
    rest = np.full((2000, 2), _run("AMPA", "soma", 0.0, 200.0, g_ns=0.0)[-1])
    ampa = _epsp("AMPA", "soma", duration=200.0, control=rest)[:, 0]
    nmda = _epsp("NMDA", "soma", duration=200.0, control=rest)[:, 0]

    def above_half(trace):
        return np.count_nonzero(trace > trace.max() / 2)

    assert above_half(nmda) > 5 * above_half(ampa)
    # depolarised by a holding current (~ +30 mV on the passive cell), the NMDA response grows
    # (Mg unblock) while the AMPA response shrinks (smaller driving force)
    hold = 0.1
    ctrl = _run("AMPA", "soma", hold, 200.0, g_ns=0.0)
    assert ctrl[int(T_SPIKE / 0.1), 0] > -45.0
    ampa_dep = _epsp("AMPA", "soma", hold=hold, duration=200.0, control=ctrl)[:, 0]
    nmda_dep = _epsp("NMDA", "soma", hold=hold, duration=200.0, control=ctrl)[:, 0]
    assert ampa_dep.max() < ampa.max()
    assert nmda_dep.max() > 1.5 * nmda.max()


def test_diverging_simulation_is_flagged():
    res = simulate_cell(duration_ms=30.0, dt=0.1, i_inj_na=[1e30], dtype=torch.float32, record_dt=1.0)
    assert res.diverged.tolist() == [[True]]
    ok = simulate_cell(duration_ms=30.0, dt=0.1, i_inj_na=[0.1], record_dt=1.0)
    assert not ok.diverged.any()


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="dt must lie in"):
        check_dt(0.5)
    with pytest.raises(ValueError, match="dt must lie in"):
        simulate_cell(duration_ms=10.0, dt=0.2)
    with pytest.raises(ValueError, match="unknown receptor 'GABA_B'"):
        receptor("GABA_B")
    with pytest.raises(ValueError, match="unknown synapse 'AMPAR'"):
        simulate_cell(duration_ms=5.0, dt=0.1, synapse="AMPAR")
    with pytest.raises(ValueError, match="compartment must be one of"):
        simulate_cell(duration_ms=5.0, dt=0.1, synapse="AMPA", compartment="axon")
    with pytest.raises(ValueError, match="g_ns must be a conductance >= 0"):
        simulate_cell(duration_ms=5.0, dt=0.1, synapse="AMPA", g_ns=-1.0)
    with pytest.raises(ValueError, match=r"soma_densities\['na'\] must be a density >= 0"):
        simulate_cell(duration_ms=5.0, dt=0.1, soma_densities={"na": -5.0})
    with pytest.raises(ValueError, match="unknown channel 'nap'"):
        simulate_cell(duration_ms=5.0, dt=0.1, dend_densities={"nap": 1.0})
    with pytest.raises(ValueError, match="i_inj_na contains NaN"):
        simulate_cell(duration_ms=5.0, dt=0.1, i_inj_na=[np.nan])
    with pytest.raises(ValueError, match="ra_ohm_cm must be a positive number"):
        e_cell_geometry(-1.0)
