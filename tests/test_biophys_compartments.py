"""The reference cell's cable: geometry, implicit solver and DC attenuation against linear algebra."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.biophys.compartments import Chain, chain_dc_transfer, e_cell_chain, point_cell_chain, solve_chain


def _dense_dc(lengths, radii, ra, g_leak, inject, record):
    """Independent answer: nodal analysis of the chain in SI units."""
    lengths = np.asarray(lengths) * 1e-4  # cm
    radii = np.asarray(radii) * 1e-4
    n = lengths.size
    g_mem = g_leak * 2 * np.pi * radii * lengths  # S
    r_half = ra * (lengths / 2) / (np.pi * radii ** 2)  # Ohm
    mat = np.diag(g_mem)
    for i in range(n - 1):
        g = 1.0 / (r_half[i] + r_half[i + 1])
        mat[[i, i + 1], [i, i + 1]] += g
        mat[i, i + 1] -= g
        mat[i + 1, i] -= g
    rhs = np.zeros(n)
    rhs[inject] = 1e-12
    dv = np.linalg.solve(mat, rhs)
    return dv[record] / dv[inject]


def test_e_cell_geometry_is_the_reference():
    c = e_cell_chain()
    assert c.n_comp == 16
    assert np.allclose(c.lengths_um, [25.0] * 4 + [100.0] * 12)
    assert np.allclose(2 * c.radii_um, [25.0] * 4 + [2.5] * 4 + [1.0] * 4 + [0.5] * 4)
    assert c.ra_ohm_cm == 300.0 and c.cm_uf_cm2 == 1.0
    s = point_cell_chain()
    assert s.n_comp == 4 and np.allclose(s.lengths_um, 5.0) and np.allclose(s.radii_um, 2.5) and s.ra_ohm_cm == 5000.0


@pytest.mark.parametrize("g_leak", [1e-4, 1e-5, 3e-4])
def test_dc_transfer_matches_nodal_analysis(g_leak):
    c = e_cell_chain()
    for inject, record in ((15, 0), (0, 15), (7, 3)):
        expected = _dense_dc(c.lengths_um, c.radii_um, 300.0, g_leak, inject, record)
        assert chain_dc_transfer(c, g_leak, inject=inject, record=record) == pytest.approx(expected, rel=1e-10)


def test_tip_to_soma_transfer_of_the_reference_cell():
    # leak 1e-4 S/cm2 everywhere: about 0.25 % of a tip voltage reaches the soma
    assert chain_dc_transfer(e_cell_chain(), 1e-4) == pytest.approx(0.002457, rel=1e-3)


def test_backward_euler_reaches_the_dc_steady_state():
    c = e_cell_chain()
    g_prev, g_next = (torch.tensor(g) for g in c.coupling())
    g_leak = 1e-4  # S/cm2 -> 0.1 mS/cm2
    lin = torch.full((1, 16), 1000.0 * g_leak, dtype=torch.float64)
    const = torch.zeros((1, 16), dtype=torch.float64)
    const[0, -1] = 0.01 / c.areas_um2[-1] * 1e5  # 10 pA into the tip, uA/cm2
    v = torch.zeros((1, 16), dtype=torch.float64)
    for _ in range(400):  # backward Euler is unconditionally stable: big steps converge
        v = solve_chain(v, lin, const, g_prev, g_next, dt=50.0)
    ratio = float(v[0, 0] / v[0, -1])
    assert ratio == pytest.approx(chain_dc_transfer(c, g_leak), rel=1e-8)


def test_thomas_solver_matches_a_dense_solve():
    rng = np.random.default_rng(0)
    c = Chain(rng.uniform(5, 50, 7), rng.uniform(0.3, 3, 7), 150.0)
    g_prev, g_next = (torch.tensor(g) for g in c.coupling())
    v = torch.tensor(rng.normal(-60, 5, (3, 7)))
    lin = torch.tensor(rng.uniform(0, 5, (3, 7)))
    const = torch.tensor(rng.normal(0, 10, (3, 7)))
    dt = 0.025
    out = solve_chain(v, lin, const, g_prev, g_next, dt).numpy()
    for b in range(3):
        a = np.diag(1 + dt * (lin[b].numpy() + g_prev.numpy() + g_next.numpy()))
        a -= np.diag(dt * g_next.numpy()[:-1], 1) + np.diag(dt * g_prev.numpy()[1:], -1)
        assert np.allclose(out[b], np.linalg.solve(a, v[b].numpy() + dt * const[b].numpy()), atol=1e-12)


def test_chain_rejects_bad_geometry():
    with pytest.raises(ValueError, match="lengths_um and radii_um"):
        Chain([1.0, 2.0], [1.0], 100.0)
    with pytest.raises(ValueError, match="radii_um must be finite and > 0"):
        Chain([1.0], [0.0], 100.0)
    with pytest.raises(ValueError, match="ra_ohm_cm"):
        Chain([1.0], [1.0], -1.0)
    with pytest.raises(ValueError, match="n_per_section"):
        e_cell_chain(n_per_section=0)
    with pytest.raises(ValueError, match="g_leak_s_cm2"):
        chain_dc_transfer(e_cell_chain(), 0.0)
