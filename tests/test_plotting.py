"""Figures render headless to PNG and SVG, show the right numbers, and reject bad input."""

from pathlib import Path

import matplotlib
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

from conn2rnn import plotting
from conn2rnn.analysis.maps import compare_maps
from conn2rnn.datasets.atlases import atlas_table, load_atlas
from conn2rnn.graph import BrainGraph


def _assert_png(path: Path) -> np.ndarray:
    assert path.is_file() and path.stat().st_size > 0
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[2] in (3, 4) and min(img.shape[:2]) > 100
    assert len(np.unique(img[..., :3].reshape(-1, 3), axis=0)) > 10  # not one flat colour
    return img[..., :3]


def _assert_svg(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 1000
    assert "<svg" in path.read_text()[:2000]


def _render_both(func, tmp_path: Path, stem: str, *args, **kwargs) -> tuple[Figure, np.ndarray]:
    """Render ``func`` to PNG and SVG via ``path=``; return the figure and the PNG pixels."""
    assert isinstance(func(*args, path=tmp_path / f"{stem}.svg", **kwargs), Figure)
    _assert_svg(tmp_path / f"{stem}.svg")
    fig = func(*args, path=tmp_path / f"{stem}.png", **kwargs)
    return fig, _assert_png(tmp_path / f"{stem}.png")


def _near(img: np.ndarray, rgb, tol: float = 0.04) -> int:
    """Number of pixels within ``tol`` of colour ``rgb`` in every channel."""
    return int(np.all(np.abs(img - np.asarray(rgb)[:3]) < tol, axis=-1).sum())


@pytest.fixture(scope="module")
def schaefer100() -> BrainGraph:
    return load_atlas("schaefer100")


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [dict(regime=regime, metric=metric, strength=s, network=k, value=rng.normal(i, 0.3))
            for i, regime in enumerate(["free", "spatial", "communicability"])
            for metric in ["modularity", "small_worldness"]
            for s in [0.0, 0.01, 0.1, 1.0] for k in range(3)]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------- surface
def test_surface_map_renders_hemispheres_in_panel_order(tmp_path):
    # left parcels 0, right parcels 1: left panels purple, right panels yellow; one NaN parcel
    table = atlas_table("schaefer100")
    values = (table["hemisphere"] == "R").to_numpy(float)
    values[0] = np.nan
    fig, img = _render_both(plotting.plot_surface_map, tmp_path, "surface", "schaefer100", values,
                            title="hemisphere", label="R?")
    assert len([ax for ax in fig.axes if ax.name == "3d"]) == 4
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == [
        "L lateral", "L medial", "R medial", "R lateral"]
    half = img.shape[1] * 0.45
    left, right = img[:, : int(half)], img[:, int(half):int(2 * half)]
    purple, yellow = matplotlib.colormaps["viridis"](0.0), matplotlib.colormaps["viridis"](1.0)
    assert _near(left, purple) > 2000 and _near(left, yellow) < 50
    assert _near(right, yellow) > 2000 and _near(right, purple) < 50
    assert plotting.brain._conte69()[0][0].flags.writeable is False
    assert plt.get_fignums() == []  # nothing left open in pyplot's global state


def test_surface_values_paint_parcels_and_leave_the_rest_nan(schaefer100):
    from brainspace.datasets import load_parcellation

    labels = np.asarray(load_parcellation("schaefer", 100, join=True))
    values = np.arange(100.0) + 10
    values.setflags(write=False)  # the caller's array is only read
    vertex = plotting.brain._surface_values("schaefer100", values)
    assert vertex.shape == labels.shape
    assert np.all(np.isnan(vertex[labels == 0]))
    np.testing.assert_array_equal(vertex[labels > 0], values[labels[labels > 0] - 1])
    # a subset graph: its regions keep their own values, all others are NaN
    sub = schaefer100.subset(schaefer100.node_mask("Default"))
    vertex_sub = plotting.brain._surface_values(sub, sub.gradient)
    label_of = dict(zip(atlas_table("schaefer100")["name"], atlas_table("schaefer100")["label"]))
    for name, g in zip(sub.names, sub.gradient):
        np.testing.assert_array_equal(vertex_sub[labels == label_of[name]], g)
    kept = np.isin(labels, [label_of[n] for n in sub.names])
    assert np.all(np.isnan(vertex_sub[~kept]))
    # a map name resolves against the graph
    np.testing.assert_array_equal(plotting.brain._surface_values(schaefer100, "t1wt2w"),
                                  plotting.brain._surface_values(schaefer100, schaefer100.maps["t1wt2w"]))


def test_surface_map_errors(schaefer100):
    with pytest.raises(ValueError, match=r"one value per parcel of schaefer100 \(100,\); got shape \(99,\)"):
        plotting.plot_surface_map("schaefer100", np.zeros(99))
    with pytest.raises(ValueError, match="unknown atlas 'schaefer300'; choose one of 'schaefer100'"):
        plotting.plot_surface_map("schaefer300", np.zeros(300))
    with pytest.raises(ValueError, match="bundled Schaefer atlas.*'grid5x5x4'.*plot_glass_brain"):
        plotting.plot_surface_map(BrainGraph.from_grid(), np.zeros(100))
    renamed = BrainGraph.from_arrays([f"r{i}" for i in range(100)], schaefer100.coords,
                                     metadata={"atlas": "schaefer100"})
    with pytest.raises(ValueError, match=r"100 region name\(s\) .* not parcels of schaefer100"):
        plotting.plot_surface_map(renamed, np.zeros(100))
    with pytest.raises(ValueError, match=r"one value per region of the graph \(100,\); got shape \(3,\)"):
        plotting.plot_surface_map(schaefer100, np.zeros(3))
    with pytest.raises(ValueError, match="unknown values 'myelin'; choose one of"):
        plotting.plot_surface_map(schaefer100, "myelin")
    with pytest.raises(TypeError, match="BrainGraph or an atlas name"):
        plotting.plot_surface_map(np.zeros(100), np.zeros(100))
    with pytest.raises(ValueError, match="unknown view 'top'; choose one of 'lateral'"):
        plotting.plot_surface_map("schaefer100", np.zeros(100), views=("lateral", "top"))
    with pytest.raises(ValueError, match="unknown cmap 'nope'"):
        plotting.plot_surface_map("schaefer100", np.zeros(100), cmap="nope")
    with pytest.raises(ValueError, match="vmin must not exceed vmax"):
        plotting.plot_surface_map("schaefer100", np.arange(100.0), vmin=2, vmax=1)
    with pytest.raises(ValueError, match="all NaN"):
        plotting.plot_surface_map("schaefer100", np.full(100, np.nan))
    with pytest.raises(ValueError, match="infinite"):
        plotting.plot_surface_map("schaefer100", np.r_[np.inf, np.zeros(99)])


# ------------------------------------------------------------- model vs brain
def test_map_scatter_reports_the_comparison(tmp_path, schaefer100):
    rng = np.random.default_rng(0)
    empirical = np.array(schaefer100.maps["t1wt2w"])
    model = empirical + rng.normal(0, 0.1, 100)
    model[[3, 7]] = np.nan
    with pytest.warns(RuntimeWarning, match="dropped 2 of 100 regions"):
        result = compare_maps(model, empirical, nulls="spin", sphere_coords=schaefer100.sphere_coords,
                              hemispheres=schaefer100.hemispheres, n_perm=50, seed=0)
    fig, _ = _render_both(plotting.plot_map_scatter, tmp_path, "scatter", model, empirical,
                          comparison=result, networks=schaefer100.networks,
                          labels=schaefer100.names)
    title = fig.axes[0].get_title()
    assert f"rho = {result.r:.2f}" in title and f"p_spin = {result.p_null:.2g}" in title
    assert "50 spin maps" in title and "n = 98 of 100 regions" in title
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == list(dict.fromkeys(n for n in plotting.NETWORK_COLORS if n in schaefer100.networks))
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 98


def test_map_scatter_without_comparison_and_with_duck_typed_one():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=40), rng.normal(size=40)
    rho, p = stats.spearmanr(x, y)
    title = plotting.plot_map_scatter(x, y).axes[0].get_title()
    assert f"Spearman rho = {rho:.2f}, p = {p:.2g} (parametric, no spatial null)" == title

    class Spin:
        r, p_spin, method = 0.512, 0.0123, "spearman"

    assert plotting.plot_map_scatter(x, y, comparison=Spin()).axes[0].get_title() == (
        "rho = 0.51, p_spin = 0.012 (spearman)")


def test_map_scatter_errors():
    x = np.arange(10.0)
    with pytest.raises(ValueError, match="one value per region each; got 10 and 9"):
        plotting.plot_map_scatter(x, x[:9])
    with pytest.raises(TypeError, match="comparison must have attributes r, p_spin"):
        plotting.plot_map_scatter(x, x, comparison=0.5)
    with pytest.raises(ValueError, match=r"networks must have one entry per region \(10\); got 3"):
        plotting.plot_map_scatter(x, x, networks=["Vis"] * 3)
    with pytest.raises(ValueError, match="at least 3 regions with finite"):
        plotting.plot_map_scatter(x, np.r_[np.full(8, np.nan), 1.0, 2.0])


# ------------------------------------------------------------------ results
def test_learning_curves_show_mean_and_sd_across_networks(tmp_path):
    rows = [dict(regime=r, network=k, trials=t, accuracy=(k + 1) * t / 1000 * (2 if r == "b" else 1))
            for r in ["a", "b"] for k in range(3) for t in range(0, 1000, 250)]
    curves = pd.DataFrame(rows)
    fig, _ = _render_both(plotting.plot_learning_curves, tmp_path, "curves", curves)
    lines = fig.axes[0].get_lines()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a (n=3)", "b (n=3)"]
    trials = np.arange(0, 1000, 250)
    np.testing.assert_allclose(lines[0].get_ydata(), 2 * trials / 1000)  # mean of 1, 2, 3 = 2
    np.testing.assert_allclose(lines[1].get_ydata(), 4 * trials / 1000)
    band = fig.axes[0].collections[1].get_paths()[0].vertices  # regime b: mean ± sd (sd of 2, 4, 6 = 2)
    assert band[:, 1].max() == pytest.approx((4 + 2) * 750 / 1000)
    # no regime column, x='step': one curve over all networks
    single = plotting.plot_learning_curves(curves.drop(columns="regime").rename(columns={"trials": "step"}),
                                           x="step")
    assert [t.get_text() for t in single.axes[0].get_legend().get_texts()] == ["all (n=3)"]


def test_learning_curves_errors():
    curves = pd.DataFrame({"step": [0, 1], "network": [0, 0], "accuracy": [0.5, 0.6]})
    with pytest.raises(ValueError, match=r"curves is missing column\(s\) \['trials'\]; its columns are"):
        plotting.plot_learning_curves(curves)
    with pytest.raises(TypeError, match="curves must be a pandas DataFrame; got dict"):
        plotting.plot_learning_curves(curves.to_dict())
    with pytest.raises(TypeError, match=r"curves\['accuracy'\] must be numeric"):
        plotting.plot_learning_curves(curves.assign(accuracy=["high", "low"]), x="step")
    with pytest.raises(ValueError, match="curves has no rows"):
        plotting.plot_learning_curves(curves.iloc[:0], x="step")


def test_metric_by_regime(tmp_path, tidy):
    table = tidy.copy()
    table.loc[0, "value"] = np.nan  # free / modularity: one NaN is left out and counted
    fig, _ = _render_both(plotting.plot_metric_by_regime, tmp_path, "regimes", table, metric="modularity")
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["free\n(n=11)", "spatial\n(n=12)", "communicability\n(n=12)"]
    medians = [line.get_ydata()[0] for line in fig.axes[0].get_lines() if line.get_gid() == "median"]
    expected = [np.nanmedian(table.query("metric == 'modularity' and regime == @r")["value"])
                for r in ["free", "spatial", "communicability"]]
    np.testing.assert_allclose(medians, expected)
    ordered = plotting.plot_metric_by_regime(table, metric="modularity", order=["spatial", "free"])
    assert [t.get_text().split("\n")[0] for t in ordered.axes[0].get_xticklabels()] == ["spatial", "free"]
    with pytest.raises(ValueError, match=r"no rows with metric 'degree'; metrics present: \['modularity'"):
        plotting.plot_metric_by_regime(table, metric="degree")
    with pytest.raises(ValueError, match="unknown regime in order 'L1'; choose one of 'free'"):
        plotting.plot_metric_by_regime(table, metric="modularity", order=["L1"])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['regime'\]"):
        plotting.plot_metric_by_regime(table.drop(columns="regime"), metric="modularity")


def test_topology_vs_strength(tmp_path, tidy):
    fig, _ = _render_both(plotting.plot_topology_vs_strength, tmp_path, "topology", tidy,
                          metric="small_worldness")
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog"  # a zero strength and a 100x range of positive ones
    first = ax.get_lines()[0]
    free = tidy.query("metric == 'small_worldness' and regime == 'free'")
    expected = free.groupby("strength")["value"].mean()
    np.testing.assert_allclose(first.get_xdata(), expected.index)
    np.testing.assert_allclose(first.get_ydata(), expected.to_numpy())
    linear = plotting.plot_topology_vs_strength(tidy, metric="modularity", logx=False)
    assert linear.axes[0].get_xscale() == "linear"
    positive = tidy.assign(strength=tidy["strength"] + 0.001)
    assert plotting.plot_topology_vs_strength(positive, metric="modularity").axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match=r"missing column\(s\) \['strength'\]"):
        plotting.plot_topology_vs_strength(tidy.drop(columns="strength"), metric="modularity")
    with pytest.raises(ValueError, match="logx=True needs non-negative strengths"):
        plotting.plot_topology_vs_strength(tidy.assign(strength=tidy["strength"] - 1), metric="modularity",
                                           logx=True)


def test_weight_vs_distance(tmp_path):
    rng = np.random.default_rng(3)
    coords = rng.uniform(0, 40, (20, 3))
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    w = rng.normal(size=(2, 20, 20)) * np.exp(-d / 10)
    w.setflags(write=False)
    fig, _ = _render_both(plotting.plot_weight_vs_distance, tmp_path, "wd", w, d, bins=4)
    off = ~np.eye(20, dtype=bool)
    x, y = np.tile(d[off], 2), np.abs(w[:, off]).ravel()
    assert f"Spearman rho = {stats.spearmanr(x, y)[0]:.2f}" in fig.axes[0].get_title()
    means, edges, _ = stats.binned_statistic(x, y, "mean", bins=4)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), means[np.isfinite(means)])
    # many connections: a hexbin with its colour bar
    big_d = np.abs(np.subtract.outer(np.arange(80.0), np.arange(80.0)))
    assert len(plotting.plot_weight_vs_distance(np.ones((80, 80)), big_d).axes) == 2
    with pytest.raises(ValueError, match=r"w must be \(N, N\) or \(K, N, N\); got shape \(3, 4\)"):
        plotting.plot_weight_vs_distance(np.zeros((3, 4)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"d must be \(20, 20\) to match"):
        plotting.plot_weight_vs_distance(w, d[:5, :5])
    with pytest.raises(ValueError, match="d must be non-negative"):
        plotting.plot_weight_vs_distance(w, -d)
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        plotting.plot_weight_vs_distance(w, d, bins=0)


def test_glass_brain_by_gradient(tmp_path, schaefer100):
    fig = plotting.plot_glass_brain(schaefer100, color="gradient", path=tmp_path / "glass.png")
    _assert_png(tmp_path / "glass.png")
    cbar = next(ax for ax in fig.axes if ax.get_label() == "colorbar")
    assert cbar.get_ylabel() == "gradient"
    np.testing.assert_allclose(cbar.get_ylim(), [schaefer100.gradient.min(), schaefer100.gradient.max()])
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="needs a graph with a gradient"):
        plotting.plot_glass_brain(BrainGraph.from_grid(), color="gradient")
