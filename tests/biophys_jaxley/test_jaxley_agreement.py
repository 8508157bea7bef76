"""The torch reference engine against Jaxley, the reference's simulator.

Runs where jaxley is installed (``bash .ci/jaxley.sh`` builds that environment and
sets CONN2RNN_REQUIRE_JAXLEY=1, which turns a missing jaxley into a failure).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("CONN2RNN_REQUIRE_JAXLEY") != "1":
    pytest.importorskip("jaxley")

from conn2rnn.biophys.compartments import e_cell_chain  # noqa: E402
from conn2rnn.biophys.jaxley_reference import (  # noqa: E402
    jaxley_network,
    simulate_jaxley_cell,
    simulate_jaxley_network,
)
from conn2rnn.biophys.reference_engine import simulate_cell  # noqa: E402
from conn2rnn.biophys.reference_network import from_unit  # noqa: E402
from conn2rnn.biophys.reference_task import CUES, ReferenceNetwork, cue_amplitudes  # noqa: E402

DT = 0.025
SOMA = dict(na=0.05, k=0.005, leak=1e-4, km=1e-5, cal=1e-4, cat=1e-4)
DEND = dict(na=0.05, k=0.005, leak=3e-5, km=1e-6, cal=1e-5, cat=1e-5)


def _spikes(v):
    return np.nonzero((v[:-1] <= 0) & (v[1:] > 0))[0] * DT


def _dens():
    return {k: np.r_[[SOMA[k]] * 4, [DEND[k]] * 12] for k in SOMA}


@pytest.mark.parametrize("amp_na", [0.0, 0.3, 1.0])
def test_single_cell_traces_and_spike_times(amp_na):
    n = 4000
    cur = np.zeros(n)
    cur[800:3200] = amp_na
    ours = simulate_cell(e_cell_chain(), _dens(), cur[:, None], dt=DT)[0]
    ref = simulate_jaxley_cell(e_cell_chain(), SOMA, DEND, cur, dt=DT)
    assert ours.shape == ref.shape == (n + 1, 16)
    assert np.abs(ours - ref).max() < 1e-5
    assert np.array_equal(_spikes(ours[:, 0]), _spikes(ref[:, 0]))


def test_passive_tip_to_soma_transfer():
    from conn2rnn.biophys.compartments import chain_dc_transfer

    passive = {k: (0.0 if k != "leak" else 1e-4) for k in SOMA}
    n = 8000  # 200 ms of 10 pA into the tip, steady state reached
    cur = np.full(n, 0.01)
    ref = simulate_jaxley_cell(e_cell_chain(), passive, passive, cur, inject=15, dt=DT)
    dv = ref[-1] + 70.0
    assert dv[0] / dv[-1] == pytest.approx(chain_dc_transfer(e_cell_chain(), 1e-4), rel=1e-3)


def test_small_network_voltages_and_spikes():
    p = from_unit(np.random.default_rng(0).uniform(size=(1, 26)), "NMDA_soma")
    net = ReferenceNetwork(p, "NMDA_soma", duration_ms=100.0, n_e=4, cue_on_ms=(40.0, 65.0))
    rng = np.random.default_rng(1)
    noise = 0.06 * rng.standard_normal((net.n_steps, 1, net.circuit.n_noise))
    v_e, v_i = rng.uniform(-80, -40, (1, 4, 16)), rng.uniform(-80, -40, (1, 2, 4))
    res = net.simulate([1], noise=noise, v0=(v_e, v_i), record_v=True)
    amps = cue_amplitudes(CUES)[1]
    cur = np.zeros((net.n_steps, amps.size))
    cur[1600:2600] = amps
    jnet, gids = jaxley_network(net.circuit, amps[None])
    ref = simulate_jaxley_network(jnet, gids, cue_current_na=cur, noise_na=noise[:, 0], v0_e=v_e[0], v0_i=v_i[0])
    for key in ("E_soma", "E_tip", "I"):
        assert np.abs(res.v_trace[key][0, 0] - ref[key]).max() < 1e-4, key
    assert np.abs(res.readout[0, 0] - ref["readout"][net.record_from::net.record_every]).max() < 1e-6
