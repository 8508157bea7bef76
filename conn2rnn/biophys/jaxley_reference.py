"""The same cells and network built in Jaxley (the reference's simulator), for cross-checks.

Jaxley and jax are optional and imported inside the functions (install them in an
environment of their own: ``bash .ci/jaxley.sh``). The network is built the way the
reference's ``make_network`` builds it (cells, channel names, synapse placement,
noise and cue cells stimulated at compartment 0, readout cells with a 0 mV leak),
with the synapses and peak conductances of a :class:`~.reference_engine.RefCircuit`
(one Jaxley synapse per nonzero ``w[target, source]``; several reference synapses
between one pair share one release state, so their summed conductance is exact).
Synapse kinetics are the reference's (``jaxley_synapses.py``), re-declared here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .compartments import Chain

__all__ = ["jaxley_cell", "jaxley_network", "jaxley_trial_fn", "simulate_jaxley_cell", "simulate_jaxley_network"]


def _jax():
    try:
        import jax
        import jaxley as jx
    except ImportError as exc:  # pragma: no cover - exercised where jaxley is absent
        raise ImportError("the Jaxley cross-check needs jaxley and jax: run `bash .ci/jaxley.sh` or "
                          "`pip install jaxley` in a separate environment") from exc
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platform_name", "cpu")
    return jax, jx


def _synapse_classes():
    jax, jx = _jax()
    import jax.numpy as jnp
    from jax.lax import select
    from jaxley.solver_gate import save_exp
    from jaxley.synapses import Synapse

    def exptable(x):
        return select((x > -10) & (x < 10), save_exp(x), jnp.zeros_like(x))

    class Release(Synapse):
        """The reference's AMPA / GABAa / NMDA (Destexhe release scheme)."""

        alpha, beta, e_rev, mg = 1.1, 0.19, 0.0, False

        def __init__(self, name=None):
            super().__init__(name)
            n = self._name
            self.synapse_params = {f"{n}_gS": 1e-4, f"{n}_e": self.e_rev, f"{n}_alpha": self.alpha,
                                   f"{n}_beta": self.beta}
            self.synapse_states = {f"{n}_R": 0.0, f"{n}_C": 0.0, f"{n}_lastrelease": -1000.0,
                                   f"{n}_timecount": -1.0, f"{n}_R0": 0.0, f"{n}_R1": 0.0}

        def update_states(self, u, delta_t, pre_voltage, post_voltage, params):
            n = self._name
            tc = u[f"{n}_timecount"]
            new_tc = select(tc == -1, jnp.ones_like(tc), tc - delta_t)
            rel = (pre_voltage > 0) & (new_tc <= -1.0)
            c = u[f"{n}_C"]
            new_c = select(rel, jnp.ones_like(c), select(new_tc > 0, c, jnp.zeros_like(c)))
            new_last = select(rel, jnp.zeros_like(c), u[f"{n}_lastrelease"] + delta_t)
            a, b = params[f"{n}_alpha"], params[f"{n}_beta"]
            r_inf, r_tau = a / (a + b), 1 / (a + b)
            r = u[f"{n}_R"]
            new_r0 = select(rel, r, u[f"{n}_R0"])
            new_r1 = select(c > 0, r, u[f"{n}_R1"])
            new_r = select(new_c > 0, r_inf + (new_r0 - r_inf) * exptable(-new_last / r_tau),
                           new_r1 * exptable(-b * (new_last - 1.0)))
            new_tc = select(rel, jnp.ones_like(tc), new_tc)
            return {f"{n}_R": new_r, f"{n}_C": new_c, f"{n}_lastrelease": new_last, f"{n}_timecount": new_tc,
                    f"{n}_R0": new_r0, f"{n}_R1": new_r1}

        def compute_current(self, u, pre_voltage, post_voltage, params):
            n = self._name
            g = params[f"{n}_gS"] * u[f"{n}_R"]
            if self.mg:
                g = g / (1 + save_exp(0.062 * (-post_voltage)) * (1.0 / 3.57))
            return g * (post_voltage - params[f"{n}_e"])

    class AMPA(Release):
        pass

    class NMDA(Release):
        alpha, beta, mg = 0.072, 0.0066, True

    class GABAa(Release):
        alpha, beta, e_rev = 5.0, 0.18, -80.0

    class Readout(Release):
        e_rev = 10.0

    return {"AMPA": AMPA, "NMDA": NMDA, "GABA_A": GABAa, "READOUT": Readout}


def jaxley_cell(chain: Chain):
    """A Jaxley cell with the geometry of ``chain`` (one branch per 4 compartments, in a line)."""
    _, jx = _jax()
    n = chain.n_comp
    per = 4 if n % 4 == 0 else n
    comp = jx.Compartment()
    branch = jx.Branch(comp, ncomp=per)
    n_branch = n // per
    cell = jx.Cell([branch] * n_branch, parents=[-1] + list(range(n_branch - 1)))
    for b in range(n_branch):
        sl = slice(b * per, (b + 1) * per)
        assert np.allclose(chain.lengths_um[sl], chain.lengths_um[b * per])
        cell.branch(b).set("length", float(chain.lengths_um[b * per]))
        cell.branch(b).set("radius", float(chain.radii_um[b * per]))
    cell.set("axial_resistivity", float(chain.ra_ohm_cm))
    return cell


def _insert_full(view_fn, prefix: str, dens: dict[str, float]) -> None:
    """Insert the six channels as ``<prefix>_<Channel>`` into ``view_fn()`` and set their densities."""
    from jaxley.channels import CaL, CaT, K, Km, Leak, Na

    for cls, key, pname in ((Leak, "leak", "gLeak"), (Na, "na", "gNa"), (K, "k", "gK"), (Km, "km", "gKm"),
                            (CaT, "cat", "gCaT"), (CaL, "cal", "gCaL")):
        ch = cls()
        ch.change_name(f"{prefix}_{cls.__name__}")
        view_fn().insert(ch)
        view_fn().set(f"{prefix}_{cls.__name__}_{pname}", float(dens[key]))


def simulate_jaxley_cell(chain: Chain, soma_dens: dict[str, float], dend_dens: dict[str, float],
                         current_na: np.ndarray, *, inject: int = 0, dt: float = 0.025, v0: float = -70.0) -> np.ndarray:
    """Jaxley's voltages ``(n_steps + 1, n_comp)`` of one cell under ``current_na`` ((n_steps,) nA).

    The first quarter of the compartments gets ``soma_dens``, the rest ``dend_dens``
    (S/cm2), as the reference E cell; gates start at 0.2.
    """
    jax, jx = _jax()
    cell = jaxley_cell(chain)
    per = 4 if chain.n_comp % 4 == 0 else chain.n_comp
    _insert_full(lambda: cell.branch(0), "E", soma_dens)
    if chain.n_comp > per:
        _insert_full(lambda: cell.branch(list(range(1, chain.n_comp // per))), "E_dend", dend_dens)
    cell.set("v", v0)
    comp_b, comp_c = divmod(inject, per)
    cell.branch(comp_b).comp(comp_c).stimulate(np.asarray(current_na, dtype=float))
    for i in range(chain.n_comp):
        cell.branch(i // per).comp(i % per).record("v", verbose=False)
    t_max = (len(current_na) - 1) * dt + dt / 2  # Jaxley takes int(t_max // dt + 1) steps
    out = jx.integrate(cell, delta_t=dt, t_max=t_max)
    return np.asarray(out).T


def jaxley_network(circuit: Any, cue_amplitudes_na: np.ndarray) -> tuple[Any, dict]:
    """The reference network of one parameter set of ``circuit`` (``K = 1``) in Jaxley.

    Returns
    -------
    net : jaxley.Network
    gids : dict
        Population -> list of global cell indices.
    """
    _, jx = _jax()
    from jaxley.channels import K, Leak, Na
    from jaxley.connect import connectivity_matrix_connect

    c = circuit
    if c.e_dens["leak"].shape[0] != 1:
        raise ValueError("jaxley_network builds one parameter set; give a circuit with K = 1")
    n_cue = cue_amplitudes_na.shape[-1]
    e_cell, small = jaxley_cell(c.e_chain), jaxley_cell(c.s_chain)
    sizes = {"E": c.n_e, "I": c.n_i, "noise": c.n_noise, "cue": n_cue, "readout": c.n_readout}
    gids, cells, start = {}, [], 0
    for name, n in sizes.items():
        gids[name] = list(range(start, start + n))
        cells += [e_cell if name == "E" else small] * n
        start += n
    net = jx.Network(cells)
    for name in ("noise", "cue"):
        for ch in (Na(), K(), Leak()):
            net.cell(gids[name]).insert(ch)
    ed = {key: val[0, 0, 0].numpy() for key, val in c.e_dens.items()}
    sd = {key: val[0, 0, 0, 0].item() for key, val in c.s_dens.items()}  # I cells come first
    _insert_full(lambda: net.cell(gids["E"]).branch(0), "E", {key: float(v[0]) for key, v in ed.items()})
    _insert_full(lambda: net.cell(gids["E"]).branch([1, 2, 3]), "E_dend", {key: float(v[-1]) for key, v in ed.items()})
    _insert_full(lambda: net.cell(gids["I"]), "I", sd)
    net.cell(gids["readout"]).insert(Leak())
    net.cell(gids["readout"]).set("Leak_eLeak", 0.0)
    net.cell(gids["readout"]).set("v", 0.0)
    classes = _synapse_classes()
    pre_pop = {"E": "E", "I": "I", "noise": "noise", "cue": "cue"}
    small_pop = np.array(["I"] * c.n_i + ["noise"] * c.n_noise + ["readout"] * c.n_readout)
    for idx, grp in enumerate(c.groups):
        w = grp.weight[0].numpy()  # (P, Q)
        if not np.any(w):
            continue
        syn = classes[grp.receptor]()
        syn.change_name(f"g{idx}_{grp.receptor.lower()}")
        pre_ids = gids[pre_pop[grp.pre]]
        if grp.post == "S":
            cells_s = np.asarray(grp.post_cells)
            pops = small_pop[cells_s]
            pop = pops[0]
            offset = {"I": 0, "noise": c.n_i, "readout": c.n_i + c.n_noise}[pop]
            post_ids = [gids[pop][i - offset] for i in cells_s]
            post_view = net.cell(post_ids).branch(0).comp(0)
        else:
            post_ids = gids["E"]
            last = c.e_chain.n_comp - 1
            post_view = (net.cell(post_ids).branch(0).comp(0) if grp.post == "E_soma"
                         else net.cell(post_ids).branch(last // 4).comp(last % 4))
        conn = (w > 0).T  # [pre, post]
        connectivity_matrix_connect(net.cell(pre_ids).branch(0).comp(0), post_view, syn, conn)
        net.copy_node_property_to_edges("global_cell_index")
        edges = net.edges[net.edges["type"] == syn._name]
        pre_cell = edges["pre_global_cell_index"].to_numpy()
        post_cell = edges["post_global_cell_index"].to_numpy()
        pre_local = np.searchsorted(pre_ids, pre_cell)
        post_local = np.array([post_ids.index(p) for p in post_cell])
        net.edges.loc[edges.index, f"{syn._name}_gS"] = w[post_local, pre_local]
    return net, gids


def jaxley_trial_fn(net: Any, gids: dict, n_steps: int, dt: float = 0.025):
    """A jit-compiled one-trial function of the network, as the reference runs it.

    Returns
    -------
    callable
        ``f(cue_current_na (n_steps, n_cue), noise_na (n_steps, n_noise), v0_e (n_e, n_comp_e),
        v0_i (n_i, n_comp_s)) -> (n_steps + 1, n_rec)`` recordings: E compartment 0, E tip, I
        compartment 0, readout compartment 0.
    """
    jax, jx = _jax()
    net.delete_recordings()
    net.delete_stimuli()
    last = len(net.cell(gids["E"][0]).nodes) - 1
    net.cell(gids["E"]).branch(0).comp(0).record("v", verbose=False)
    net.cell(gids["E"]).branch(last // 4).comp(last % 4).record("v", verbose=False)
    net.cell(gids["I"]).branch(0).comp(0).record("v", verbose=False)
    net.cell(gids["readout"]).branch(0).comp(0).record("v", verbose=False)
    t_max = (n_steps - 1) * dt + dt / 2  # Jaxley takes int(t_max // dt + 1) steps

    def run(cue_current_na, noise_na, v0_e, v0_i):
        data = net.cell(gids["cue"]).branch(0).comp(0).data_stimulate(cue_current_na.T, data_stimuli=None)
        data = net.cell(gids["noise"]).branch(0).comp(0).data_stimulate(noise_na.T, data_stimuli=data)
        pstate = net.cell(gids["E"]).data_set("v", v0_e.reshape(-1), None)
        pstate = net.cell(gids["I"]).data_set("v", v0_i.reshape(-1), pstate)
        return jx.integrate(net, delta_t=dt, t_max=t_max, data_stimuli=data, param_state=pstate).T

    return jax.jit(run)


def simulate_jaxley_network(net: Any, gids: dict, *, cue_current_na: np.ndarray, noise_na: np.ndarray,
                            v0_e: np.ndarray, v0_i: np.ndarray, dt: float = 0.025,
                            trial_fn: Any = None) -> dict[str, np.ndarray]:
    """One trial in Jaxley: voltages ``(n_steps + 1, cells)`` of E compartment 0 and tip, I and readout.

    Parameters
    ----------
    cue_current_na : (n_steps, n_cue) ndarray
    noise_na : (n_steps, n_noise) ndarray
    v0_e : (n_e, n_comp_e) ndarray
    v0_i : (n_i, n_comp_s) ndarray
    trial_fn : callable, optional
        A :func:`jaxley_trial_fn` to reuse (its compilation is then paid once).
    """
    fn = trial_fn if trial_fn is not None else jaxley_trial_fn(net, gids, noise_na.shape[0], dt)
    out = np.asarray(fn(np.asarray(cue_current_na, dtype=float), np.asarray(noise_na, dtype=float),
                        np.asarray(v0_e, dtype=float), np.asarray(v0_i, dtype=float)))
    ne, ni = len(gids["E"]), len(gids["I"])
    return {"E_soma": out[:, :ne], "E_tip": out[:, ne:2 * ne], "I": out[:, 2 * ne:2 * ne + ni],
            "readout": out[:, 2 * ne + ni:]}
