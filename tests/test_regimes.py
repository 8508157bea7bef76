"""Tests for conn2rnn.regimes: the Regime spec, registry, resolution and total cost."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from conn2rnn.constraints import communicability_cost
from conn2rnn.graph import BrainGraph
from conn2rnn.regimes import REGIMES, Regime, get_regime, regime_cost, resolve_regime

NETWORKS = ["Vis", "Default", "Vis", "SomMot", "Default", "Cont"]
COORDS = np.array(
    [[0, 0, 0], [10, 0, 0], [0, 20, 0], [0, 0, 5], [3, 4, 0], [7, 7, 7]], dtype=float
)
CONNECTOME = np.array(
    [
        [0, 1, 0, 0, 2, 0],
        [1, 0, 0, 3, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 3, 0, 0, 0, 0],
        [2, 0, 0, 0, 0, 1],
        [0, 0, 1, 0, 1, 0],
    ],
    dtype=float,
)


def _graph(connectome=CONNECTOME):
    names = [f"r{i}" for i in range(6)]
    return BrainGraph.from_arrays(
        names, COORDS, networks=NETWORKS, gradient=np.arange(6.0), connectome=connectome
    )


def _euclid_mean_normalised():
    d = np.sqrt(((COORDS[:, None] - COORDS[None]) ** 2).sum(-1))
    return d / d[~np.eye(6, dtype=bool)].mean()


# ----------------------------------------------------------------------------- spec
def test_registry_names_and_meaning():
    assert list(REGIMES) == ["vanilla", "l1", "masked", "embedded", "bio", "sernn"]
    assert REGIMES["vanilla"].l2 > 0 and not REGIMES["vanilla"].io_masking
    assert REGIMES["l1"].l1 > 0 and REGIMES["l1"].spatial_cost is None
    assert REGIMES["masked"].io_masking and REGIMES["masked"].spatial_cost is None
    assert REGIMES["embedded"].spatial_cost == "l1" and REGIMES["embedded"].distance == "euclidean"
    assert REGIMES["bio"].io_masking and REGIMES["bio"].spatial_cost == "l1"
    assert REGIMES["sernn"].spatial_cost == "communicability"
    for name, r in REGIMES.items():
        assert r.name == name
    with pytest.raises(TypeError):
        REGIMES["new"] = Regime("new")


def test_get_regime_overrides_and_errors():
    r = get_regime("embedded", strength=5e-3, distance="gradient")
    assert r.strength == 5e-3 and r.distance == "gradient" and r.spatial_cost == "l1"
    assert REGIMES["embedded"].strength == 1e-3  # registry untouched
    with pytest.raises(ValueError, match=r"unknown regime 'foo'; valid: vanilla, l1"):
        get_regime("foo")
    with pytest.raises(ValueError, match=r"unknown regime keys \['strenght'\]; valid keys are \['name'"):
        get_regime("bio", strenght=1.0)


def test_regime_defaults_and_normalisation():
    r = Regime("x", input_networks=["Vis", "Cont"], output_networks="Default", strength=0, l1=1)
    assert r.input_networks == ("Vis", "Cont") and r.output_networks == ("Default",)
    assert isinstance(r.l1, float) and r.l1 == 1.0
    assert r.distance_normalize == "mean" and r.excitatory_fraction == 0.8 and r.trainable
    hash(r)  # frozen and hashable
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.l1 = 2.0


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"l1": -1e-3}, ValueError, "l1 must be >= 0; got -0.001"),
        ({"l2": math.nan}, ValueError, "l2 must be finite"),
        ({"activity": math.inf}, ValueError, "activity must be finite"),
        ({"strength": True}, TypeError, "strength must be a real number; got bool"),
        ({"spatial_cost": "l3"}, ValueError,
         r"spatial_cost must be one of \['l1', 'l2', 'communicability', 'kernel_correlation', "
         r"'communicability_out'\] or None"),
        ({"distance": "manhattan"}, ValueError, r"distance must be one of \['euclidean', 'gradient', 'geodesic', 'uniform'\]"),
        ({"distance_normalize": "sum"}, ValueError, "distance_normalize must be one of"),
        ({"sparsity_mask": "random"}, ValueError, r"sparsity_mask must be one of \['none', 'connectome'\]"),
        ({"strength": 1e-3}, ValueError, "has no effect without a spatial_cost"),
        ({"excitatory_fraction": 1.5}, ValueError, r"excitatory_fraction must lie in \[0, 1\]"),
        ({"dale": 1}, TypeError, "dale must be a bool; got int"),
        ({"input_networks": ()}, ValueError, "input_networks must be a non-empty sequence"),
        ({"output_networks": ("Vis", "Vis")}, ValueError, "output_networks has duplicate"),
        ({"name": ""}, ValueError, "name must be a non-empty string"),
    ],
)
def test_regime_validation(kwargs, exc, match):
    kwargs = {"name": "x", **kwargs}
    with pytest.raises(exc, match=match):
        Regime(**kwargs)


@pytest.mark.parametrize("name", list(REGIMES))
def test_dict_and_toml_round_trip(name):
    r = REGIMES[name].replace(input_networks=("Vis", "DorsAttn"), activity=1e-4, dale=True)
    d = r.to_dict()
    assert d["input_networks"] == ["Vis", "DorsAttn"]
    assert Regime.from_dict(d) == r
    text = r.to_toml()
    assert Regime.from_toml(text) == r
    assert ("spatial_cost" in text) == (r.spatial_cost is not None)


def test_from_toml_hand_written_and_errors():
    text = 'name = "mine"\nspatial_cost = "l2"\nstrength = 2\ninput_networks = ["SomMot"]\n'
    r = Regime.from_toml(text)
    assert r == Regime("mine", spatial_cost="l2", strength=2.0, input_networks=("SomMot",))
    with pytest.raises(ValueError, match=r"unknown regime keys \['colour'\]; valid keys are \["):
        Regime.from_dict({"name": "x", "colour": "red"})
    with pytest.raises(ValueError, match="needs a 'name' key"):
        Regime.from_dict({"l1": 1.0})
    with pytest.raises(TypeError, match="text must be a TOML string"):
        Regime.from_toml(b"name = 'x'")


def test_replace_revalidates():
    r = get_regime("vanilla")
    assert r.replace(l2=0.0).l2 == 0.0 and r.l2 == 1e-3
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        r.replace(l2=-1.0)


# ----------------------------------------------------------------------------- resolve
def test_resolve_masked_and_embedded():
    g = _graph()
    arr = resolve_regime(get_regime("bio"), g)
    np.testing.assert_array_equal(arr.input_nodes, [0, 2])
    np.testing.assert_array_equal(arr.output_nodes, [1, 4])
    np.testing.assert_allclose(arr.distance, _euclid_mean_normalised(), rtol=1e-12)
    assert arr.recurrent_mask is None and arr.n_nodes == 6
    for a in (arr.input_nodes, arr.output_nodes, arr.distance):
        assert not a.flags.writeable
    m = arr.input_mask(2)
    assert m.shape == (6, 2) and m[[0, 2]].all() and not m[[1, 3, 4, 5]].any()
    o = arr.output_mask(1)
    np.testing.assert_array_equal(o, [[False, True, False, False, True, False]])


def test_resolve_unmasked_by_name():
    arr = resolve_regime("vanilla", _graph())
    assert arr.input_nodes is None and arr.output_nodes is None and arr.distance is None
    assert arr.input_mask(3) is None and arr.output_mask(2) is None


def test_resolve_gradient_distance_and_connectome_mask():
    g = _graph()
    r = Regime("x", spatial_cost="l1", strength=1.0, distance="gradient",
               distance_normalize="max", sparsity_mask="connectome")
    arr = resolve_regime(r, g)
    idx = np.arange(6.0)
    np.testing.assert_allclose(arr.distance, np.abs(idx[:, None] - idx[None]) / 5.0)
    np.testing.assert_array_equal(arr.recurrent_mask, CONNECTOME != 0)
    assert arr.recurrent_mask.dtype == bool and not arr.recurrent_mask.flags.writeable


def test_resolve_errors():
    r = Regime("x", sparsity_mask="connectome")
    with pytest.raises(ValueError, match="sparsity_mask='connectome' needs a graph with a connectome"):
        resolve_regime(r, _graph(connectome=None))
    r = Regime("x", io_masking=True, input_networks=("Limbic",))
    with pytest.raises(ValueError, match=r"input_networks=\['Limbic'\]: unknown network"):
        resolve_regime(r, _graph())
    with pytest.raises(TypeError, match="regime must be a Regime or a registered name"):
        resolve_regime({"name": "x"}, _graph())


def test_resolve_on_grid():
    g = BrainGraph.from_grid(shape=(2, 2, 2))
    arr = resolve_regime("sernn", g)
    off = ~np.eye(8, dtype=bool)
    assert arr.distance.shape == (8, 8)
    assert arr.distance[off].mean() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="input_networks"):
        resolve_regime("masked", g)


# ----------------------------------------------------------------------------- cost
def _w(seed, k=None):
    rng = np.random.default_rng(seed)
    shape = (6, 6) if k is None else (k, 6, 6)
    return torch.tensor(rng.normal(0.0, 0.5, shape))


def test_regime_cost_values():
    g = _graph()
    w = _w(0)
    d = _euclid_mean_normalised()
    cost = regime_cost(get_regime("vanilla"), w, resolve_regime("vanilla", g))
    assert cost.item() == pytest.approx(1e-3 * (w.numpy() ** 2).sum())
    cost = regime_cost(get_regime("l1"), w, resolve_regime("l1", g))
    assert cost.item() == pytest.approx(1e-3 * np.abs(w.numpy()).sum())
    r = get_regime("embedded", l1=0.5, l2=0.25, strength=2.0)
    cost = regime_cost(r, w, resolve_regime(r, g))
    a = np.abs(w.numpy())
    expected = 2.0 * (a * d).sum() + 0.5 * a.sum() + 0.25 * (a ** 2).sum()
    assert cost.item() == pytest.approx(expected, rel=1e-12)
    r = get_regime("sernn")
    assert regime_cost(r, w, resolve_regime(r, g)).item() == pytest.approx(
        1e-2 * communicability_cost(w, d).item(), rel=1e-12)
    r = Regime("kc", spatial_cost="kernel_correlation", strength=1.0)
    off = ~np.eye(6, dtype=bool)
    rho = np.corrcoef(np.abs(w.numpy())[off], -d[off])[0, 1]
    assert regime_cost(r, w, resolve_regime(r, g)).item() == pytest.approx(1.0 - rho, rel=1e-10)
    r = Regime("none")
    out = regime_cost(r, w, resolve_regime(r, g))
    assert out.shape == () and out.item() == 0.0


def test_regime_cost_ensemble_and_grad():
    g = _graph()
    r = get_regime("bio", l2=1e-2)
    arr = resolve_regime(r, g)
    w = _w(1, k=3).requires_grad_(True)
    cost = regime_cost(r, w, arr)
    assert cost.shape == (3,)
    expected = torch.stack([regime_cost(r, w[k], arr) for k in range(3)])
    torch.testing.assert_close(cost, expected)
    cost.sum().backward()
    expected_grad = 1e-3 * torch.sign(w) * torch.tensor(arr.distance) + 2e-2 * w
    torch.testing.assert_close(w.grad, expected_grad.detach())


def test_regime_cost_errors():
    g = _graph()
    r = get_regime("embedded")
    with pytest.raises(ValueError, match="resolved for 6 nodes"):
        regime_cost(r, torch.zeros(5, 5), resolve_regime(r, g))
    with pytest.raises(ValueError, match="arrays has no distance"):
        regime_cost(r, _w(2), resolve_regime("vanilla", g))
    with pytest.raises(TypeError, match="regime must be a Regime"):
        regime_cost("embedded", _w(2), resolve_regime(r, g))


def test_uniform_distance_makes_the_l1_cost_a_sweepable_plain_l1():
    from conn2rnn.graph import BrainGraph

    graph = BrainGraph.from_grid((2, 2, 1))
    regime = Regime("l1_swept", spatial_cost="l1", distance="uniform", distance_normalize="none", strength=0.5)
    arrays = resolve_regime(regime, graph)
    np.testing.assert_array_equal(arrays.distance, 1 - np.eye(4))
    w = torch.arange(16, dtype=torch.float64).reshape(4, 4) - 8
    off_diagonal_l1 = (w.abs() * (1 - torch.eye(4, dtype=torch.float64))).sum()
    assert float(regime_cost(regime, w, arrays)) == pytest.approx(0.5 * float(off_diagonal_l1))


def test_regime_time_constants_and_their_spun_control():
    from conn2rnn import load_atlas
    from conn2rnn.regimes import regime_tau

    graph = load_atlas("schaefer100")
    sa = Regime("sa", tau_map="gradient", tau_range=(100.0, 1000.0))
    tau = regime_tau(sa, graph, [0, 1])
    assert tau.shape == (2, 100) and np.array_equal(tau[0], tau[1])
    assert tau.min() == 100.0 and tau.max() == 1000.0
    assert np.corrcoef(tau[0], graph.gradient)[0, 1] > 0.999
    for null in ("spin", "shuffle"):
        spun = regime_tau(sa.replace(tau_null=null), graph, [0, 1, 0])
        assert np.array_equal(np.sort(spun, axis=1), np.sort(tau[:1].repeat(3, 0), axis=1))  # same values
        assert not np.array_equal(spun[0], tau[0]) and not np.array_equal(spun[0], spun[1])
        assert np.array_equal(spun[0], spun[2])  # one permutation per seed, reproducible
    assert regime_tau(Regime("plain"), graph, [0]) is None
    with pytest.raises(ValueError, match="tau_null='spin' permutes a tau_map"):
        Regime("bad", tau_null="spin")
    with pytest.raises(ValueError, match="tau_range must satisfy 0 < tau_min <= tau_max"):
        Regime("bad", tau_map="gradient", tau_range=(500.0, 100.0))
    with pytest.raises(ValueError, match="tau_map='nope' is not on the graph"):
        regime_tau(Regime("x", tau_map="nope"), graph, [0])
    assert Regime.from_toml(sa.replace(tau_null="spin").to_toml()) == sa.replace(tau_null="spin")


def test_distance_null_needs_a_spatial_cost_on_a_permutable_distance():
    assert Regime("g", spatial_cost="l1", distance_null="spin").distance_null == "spin"
    with pytest.raises(ValueError, match="distance_null='spin' permutes the geometry of a spatial cost"):
        Regime("g", distance_null="spin")
    with pytest.raises(ValueError, match="distance='geodesic'"):
        Regime("g", spatial_cost="l1", distance="geodesic", distance_null="shuffle")


def test_reference_sernn_regime_on_the_grid_in_raw_units():
    """The authors' regulariser: raw unit-spaced grid distances, out-strength normalisation."""
    import scipy.linalg
    from scipy.spatial.distance import pdist, squareform

    from conn2rnn.graph import BrainGraph

    g = BrainGraph.from_grid((2, 2, 1))
    r = Regime("ref", spatial_cost="communicability_out", distance="euclidean", distance_normalize="none",
               strength=0.5)
    arrays = resolve_regime(r, g)
    # the Keras class SE1 builds its distances from a unit grid: raw, unnormalised
    xs, ys, zs = np.meshgrid(np.arange(2), np.arange(2), np.arange(1), indexing="ij")
    d_ref = squareform(pdist(np.stack([xs.ravel(), ys.ravel(), zs.ravel()], 1)))
    np.testing.assert_allclose(arrays.distance, d_ref)
    w = torch.tensor(np.random.default_rng(0).normal(0, 1, (4, 4)), dtype=torch.float64)
    # SE1_sWc.__call__ transcribed on the Keras kernel U[source, target] = W.T
    u = np.abs(w.numpy().T)
    s = np.diag(u.sum(axis=1) ** -0.5)
    comms = scipy.linalg.expm(s @ u @ s)
    np.fill_diagonal(comms, 0.0)
    expected = 0.5 * np.sum(u * comms * d_ref)
    assert regime_cost(r, w, arrays).item() == pytest.approx(expected, rel=1e-12)
