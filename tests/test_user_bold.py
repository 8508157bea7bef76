"""load_bold: arrays, tables and NIfTI + atlas to (T, N) BOLD with its TR; validation errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from conn2rnn.datasets.user_bold import BoldData, load_bold

nib = pytest.importorskip("nibabel")


def _signals(t=50, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(t, n)) + np.arange(n)


# ------------------------------------------------------------------ arrays
def test_array_round_trip_copies_and_is_read_only():
    x = _signals()
    bold = load_bold(x, tr=0.8, region_names=["a", "b", "c"])
    assert isinstance(bold, BoldData)
    np.testing.assert_array_equal(bold.timeseries, x)
    assert bold.tr_s == 0.8 and bold.region_names == ("a", "b", "c")
    assert (bold.n_timepoints, bold.n_regions) == (50, 3)
    assert bold.duration_s == pytest.approx(40.0)
    x[0, 0] = 1e6
    assert bold.timeseries[0, 0] != 1e6
    with pytest.raises(ValueError):
        bold.timeseries[0, 0] = 1.0


def test_array_default_names():
    assert load_bold(_signals(n=2), tr=1).region_names == ("region_0", "region_1")


def test_detrend_and_standardize():
    t = np.arange(40, dtype=float)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(40, 2))
    x = noise + np.c_[3.0 * t + 5.0, -0.5 * t]
    bold = load_bold(x, tr=2.0, detrend=True)
    # the residual of a least-squares line fit, computed independently
    design = np.c_[np.ones(40), t]
    beta = np.linalg.lstsq(design, x, rcond=None)[0]
    np.testing.assert_allclose(bold.timeseries, x - design @ beta, atol=1e-9)
    z = load_bold(x, tr=2.0, standardize=True).timeseries
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(0, ddof=1), 1.0)


def test_array_errors():
    with pytest.raises(ValueError, match=r"tr is required.*tr=0.72"):
        load_bold(_signals())
    with pytest.raises(ValueError, match=r"1-D array of length 50.*x\[:, None\]"):
        load_bold(np.zeros(50), tr=1.0)
    with pytest.raises(ValueError, match=r"look transposed: 3 time points < 50 regions.*allow_wide"):
        load_bold(_signals().T, tr=1.0)
    assert load_bold(_signals().T, tr=1.0, allow_wide=True).timeseries.shape == (3, 50)
    with pytest.raises(ValueError, match=r"tr must be in seconds; got 720.*tr=0.72"):
        load_bold(_signals(), tr=720)
    with pytest.raises(ValueError, match="positive"):
        load_bold(_signals(), tr=-1.0)
    with pytest.raises(TypeError, match="tr must be a number"):
        load_bold(_signals(), tr="2")
    with pytest.raises(ValueError, match=r"region_names must have one name per column \(3\); got 2"):
        load_bold(_signals(), tr=1.0, region_names=["a", "b"])
    with pytest.raises(ValueError, match="atlas is only used with a 4-D NIfTI"):
        load_bold(_signals(), tr=1.0, atlas="atlas.nii.gz")
    with pytest.raises(TypeError, match="detrend must be True or False"):
        load_bold(_signals(), tr=1.0, detrend="yes")


def test_nan_regions_are_named():
    x = _signals()
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 region\(s\) contain NaN.*\['b'\]"):
        load_bold(x, tr=1.0, region_names=["a", "b", "c"])


def test_constant_regions_warn_with_names():
    x = _signals()
    x[:, 2] = 7.0
    with pytest.warns(UserWarning, match=r"constant over time.*\['c'\]"):
        bold = load_bold(x, tr=1.0, region_names=["a", "b", "c"], standardize=True)
    np.testing.assert_array_equal(bold.timeseries[:, 2], 0.0)


# ------------------------------------------------------------------ tables
@pytest.mark.parametrize("suffix, sep", [(".csv", ","), (".tsv", "\t"), (".csv.gz", ",")])
def test_table_round_trip(tmp_path, suffix, sep):
    x = _signals()
    path = tmp_path / f"bold{suffix}"
    pd.DataFrame(x, columns=["V1_L", "V1_R", "PFC"]).to_csv(path, sep=sep, index=False)
    bold = load_bold(path, tr=0.72)
    np.testing.assert_allclose(bold.timeseries, x, rtol=1e-12)
    assert bold.region_names == ("V1_L", "V1_R", "PFC")
    assert bold.source == str(path)


def test_dataframe_source_is_not_mutated():
    frame = pd.DataFrame(_signals(), columns=["a", "b", "c"])
    before = frame.copy()
    bold = load_bold(frame, tr=1.0, detrend=True)
    pd.testing.assert_frame_equal(frame, before)
    assert bold.source == "DataFrame"


def test_table_errors(tmp_path):
    x = _signals()
    no_header = tmp_path / "noheader.csv"
    np.savetxt(no_header, x, delimiter=",")
    with pytest.raises(ValueError, match="no header of region names"):
        load_bold(no_header, tr=1.0)
    named = tmp_path / "named.csv"
    pd.DataFrame(x, columns=["a", "b", "c"]).to_csv(named, index=False)
    with pytest.raises(ValueError, match=r"tr is required for a table"):
        load_bold(named)
    with pytest.raises(ValueError, match="region_names is not used for tables"):
        load_bold(named, tr=1.0, region_names=["x", "y", "z"])
    frame = pd.DataFrame({"time": ["t0"] * 50, "a": x[:, 0]})
    with pytest.raises(TypeError, match=r"\['time'\] are not numeric"):
        load_bold(frame, tr=1.0)
    with pytest.raises(ValueError, match=r"cannot tell the format of 'bold.dat'"):
        load_bold(tmp_path / "bold.dat", tr=1.0)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_bold(tmp_path / "missing.csv", tr=1.0)
    wide = tmp_path / "wide.csv"
    pd.DataFrame(x.T[:, :3], columns=["a", "b", "c"]).to_csv(wide, index=False)
    load_bold(wide, tr=1.0)  # 3 x 3 is fine
    pd.DataFrame(x[:2], columns=["a", "b", "c"]).to_csv(wide, index=False)
    with pytest.raises(ValueError, match="look transposed"):
        load_bold(wide, tr=1.0)


# ------------------------------------------------------------------ NIfTI
def _nifti(tmp_path, *, tr=0.8, units="sec", t=50):
    """A 4x4x4 x T image whose voxels are independent noise, and a 2-label atlas."""
    rng = np.random.default_rng(3)
    data = rng.normal(100.0, 5.0, size=(4, 4, 4, t)).astype(np.float32)
    labels = np.zeros((4, 4, 4), dtype=np.int16)
    labels[:2, :, :] = 3          # 32 voxels
    labels[2:, :2, :2] = 7        # 8 voxels; the rest is background
    img = nib.Nifti1Image(data, np.diag([2.0, 2.0, 2.0, 1.0]))
    if units is not None:
        img.header.set_xyzt_units("mm", units)
    img.header.set_zooms((2.0, 2.0, 2.0, tr))
    atlas = nib.Nifti1Image(labels, np.diag([2.0, 2.0, 2.0, 1.0]))
    bold_path, atlas_path = tmp_path / "bold.nii.gz", tmp_path / "atlas.nii.gz"
    nib.save(img, bold_path)
    nib.save(atlas, atlas_path)
    expected = np.c_[data[labels == 3].mean(axis=0), data[labels == 7].mean(axis=0)]
    return bold_path, atlas_path, expected


def test_nifti_label_means_and_header_tr(tmp_path):
    bold_path, atlas_path, expected = _nifti(tmp_path)
    bold = load_bold(bold_path, atlas=atlas_path)
    assert bold.tr_s == pytest.approx(0.8)
    assert bold.region_names == ("label_3", "label_7")
    np.testing.assert_allclose(bold.timeseries, expected, rtol=1e-5)
    named = load_bold(nib.load(bold_path), atlas=nib.load(atlas_path), region_names={7: "B", 3: "A"})
    assert named.region_names == ("A", "B")
    np.testing.assert_allclose(named.timeseries, expected, rtol=1e-5)


def test_nifti_tr_in_milliseconds_header(tmp_path):
    bold_path, atlas_path, _ = _nifti(tmp_path, tr=720.0, units="msec")
    assert load_bold(bold_path, atlas=atlas_path).tr_s == pytest.approx(0.72)


def test_nifti_atlas_on_another_grid_is_resampled(tmp_path):
    bold_path, atlas_path, expected = _nifti(tmp_path)
    labels = np.asarray(nib.load(atlas_path).dataobj)
    fine = np.repeat(np.repeat(np.repeat(labels, 2, 0), 2, 1), 2, 2)  # 1 mm voxels, same extent
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    affine[:3, 3] = -0.5
    bold = load_bold(bold_path, atlas=nib.Nifti1Image(fine, affine))
    np.testing.assert_allclose(bold.timeseries, expected, rtol=1e-5)


def test_nifti_errors(tmp_path):
    bold_path, atlas_path, _ = _nifti(tmp_path, tr=2.0, units=None)
    with pytest.raises(ValueError, match=r"no TR with a time unit \(pixdim\[4\] = 2; pass tr=2"):
        load_bold(bold_path, atlas=atlas_path)
    assert load_bold(bold_path, atlas=atlas_path, tr=2.0).tr_s == 2.0
    with pytest.raises(ValueError, match="atlas is required for a NIfTI source"):
        load_bold(bold_path, tr=2.0)
    with pytest.raises(ValueError, match=r"name the 2 atlas labels \[3, 7\]"):
        load_bold(bold_path, atlas=atlas_path, tr=2.0, region_names=["only_one"])
    with pytest.raises(ValueError, match=r"no name for atlas label\(s\) \[7\]"):
        load_bold(bold_path, atlas=atlas_path, tr=2.0, region_names={3: "A"})
    with pytest.raises(ValueError, match="must be 4-D"):
        load_bold(atlas_path, atlas=atlas_path, tr=2.0)
    float_atlas = nib.Nifti1Image(np.full((4, 4, 4), 0.5, dtype=np.float32), np.diag([2.0, 2, 2, 1]))
    with pytest.raises(ValueError, match="integer labels"):
        load_bold(bold_path, atlas=float_atlas, tr=2.0)


def test_nifti_tr_override_warns(tmp_path):
    bold_path, atlas_path, _ = _nifti(tmp_path, tr=0.8)
    with pytest.warns(UserWarning, match="overrides the NIfTI header TR of 0.8"):
        assert load_bold(bold_path, atlas=atlas_path, tr=2.0).tr_s == 2.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_bold(bold_path, atlas=atlas_path, tr=0.8)
    assert not [w for w in caught if "overrides" in str(w.message)]
