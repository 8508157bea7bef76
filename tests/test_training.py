"""BPTT training: learning, ensemble independence, constraints under training,
determinism, checkpoint/resume, divergence handling and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conn2rnn.fitting import _training_utils as U
from conn2rnn.fitting.training import train
from conn2rnn.graph import BrainGraph
from conn2rnn.models.biornn import BioRNN
from conn2rnn.regimes import get_regime
from conn2rnn.tasks import get_task

F64 = torch.float64


def _gonogo():
    return get_task("gonogo", sigma=0.5)


def _model(task, k=2, n=8, **kw):
    kw.setdefault("seeds", list(range(10, 10 + k)))
    return BioRNN(task.n_inputs, n, task.n_outputs, n_networks=k, dt=task.dt, tau=200.0, **kw)


def _params(model):
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def _train_quiet(model, task, **kw):
    kw.setdefault("progress", False)
    return train(model, task, **kw)


# ----------------------------------------------------------------------------- learning
def test_small_network_learns_gonogo():
    task = _gonogo()
    model = _model(task, k=2, n=16, seeds=[0, 1], sigma_rec=0.05)
    res = _train_quiet(model, task, n_steps=100, batch_size=16, lr=2e-2, eval_every=10)
    start = res.curves.query("step == 0")["accuracy"].to_numpy()
    assert np.all(start < 0.9)  # not solved by the initialisation
    assert np.all(res.final_accuracy > 0.9)
    assert np.all(np.isfinite(res.trials_to_criterion)) and not res.diverged.any()
    # trials to criterion = batch_size * first evaluation step at or above the criterion
    for k in range(2):
        rows = res.curves.query("network == @k")
        first = rows.loc[rows["accuracy"] >= 0.9, "step"].min()
        assert res.trials_to_criterion[k] == first * 16
    assert list(res.curves.columns[:8]) == ["step", "trials", "network", "seed", "loss", "task_loss",
                                            "reg_loss", "accuracy"]
    loss = res.curves.groupby("step")["loss"].mean()
    assert loss.iloc[-1] < 0.5 * loss.iloc[1]


# ----------------------------------------------------------------------------- independence
@pytest.mark.parametrize("grad_clip", [None, 1e-3])
def test_member_after_one_step_equals_standalone(grad_clip):
    """Summed losses, per-network clipping and Adam keep members independent."""
    task = _gonogo()
    ens = _model(task, k=3, dtype=F64, sigma_rec=0.1)
    alone = ens.network(1)
    kw = dict(n_steps=1, lr=1e-2, grad_clip=grad_clip, eval_every=1, eval_batch_size=8)
    _train_quiet(ens, task, **kw)
    _train_quiet(alone, task, **kw)
    for name, p in alone.named_parameters():
        torch.testing.assert_close(p[0], getattr(ens, name)[1], rtol=0, atol=1e-12)
    before = ens.network(1)
    assert not torch.equal(before.w_rec_raw, _model(task, k=3, dtype=F64).network(1).w_rec_raw)


def test_masked_weights_stay_exactly_zero_through_training():
    rng = np.random.default_rng(0)
    n = 8
    g = BrainGraph.from_grid((2, 2, 2))
    conn = rng.random((n, n)) * (rng.random((n, n)) < 0.4)
    g = BrainGraph.from_arrays(g.names, g.coords, networks=["Vis"] * 4 + ["Default"] * 4, connectome=conn)
    regime = get_regime("bio", sparsity_mask="connectome", dale=True, excitatory_fraction=0.75)
    task = _gonogo()
    model = BioRNN.from_graph(g, task, regime, n_networks=2, strengths=[1e-3, 1e-2])
    _train_quiet(model, task, n_steps=5, lr=5e-2, eval_every=5, eval_batch_size=8)
    for raw, mask in ((model.w_rec_raw, model.recurrent_mask), (model.w_in_raw, model.input_mask),
                      (model.w_out_raw, model.output_mask)):
        assert torch.all(raw.detach()[~mask] == 0)
        assert torch.all(raw.grad[~mask] == 0)
        assert raw.grad[mask].abs().sum() > 0
    assert torch.all(model.w_rec.detach() * model.dale_sign.unsqueeze(1) >= 0)


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_results():
    task = _gonogo()
    runs = []
    for _ in range(2):
        model = _model(task, sigma_rec=0.1, sigma_in=0.05)
        res = _train_quiet(model, task, n_steps=6, eval_every=3, eval_batch_size=16, seed=5)
        runs.append((res, _params(model)))
    (r1, p1), (r2, p2) = runs
    assert r1.curves.equals(r2.curves)
    assert np.array_equal(r1.final_accuracy, r2.final_accuracy)
    assert all(torch.equal(p1[k], p2[k]) for k in p1)
    other = _model(task, sigma_rec=0.1, sigma_in=0.05)
    _train_quiet(other, task, n_steps=6, eval_every=3, eval_batch_size=16, seed=6)
    assert not torch.equal(other.w_rec_raw, p1["w_rec_raw"])


class _Interrupting:
    """A task that raises on its n-th batch, as if the process were killed."""

    def __init__(self, task, fail_at):
        self.task, self.calls, self.fail_at = task, 0, fail_at

    def __getattr__(self, name):
        return getattr(self.task, name)

    def batch(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt("simulated interruption")
        return self.task.batch(*args, **kwargs)


def test_resume_after_interruption_reproduces_uninterrupted_run(tmp_path):
    task = _gonogo()
    kw = dict(n_steps=9, eval_every=2, eval_batch_size=16, checkpoint_every=3, seed=1, lr=1e-2)
    full_model = _model(task, sigma_rec=0.1)
    full = _train_quiet(full_model, task, checkpoint_dir=tmp_path / "a", **kw)

    first = _model(task, sigma_rec=0.1)
    # call 1 is the evaluation batch, calls 2.. the training steps: fail during step 8
    with pytest.raises(KeyboardInterrupt):
        _train_quiet(first, _Interrupting(task, fail_at=9), checkpoint_dir=tmp_path / "b", **kw)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["checkpoint.pt"]  # no temp files left
    resumed_model = _model(task, sigma_rec=0.1)
    resumed = _train_quiet(resumed_model, task, checkpoint_dir=tmp_path / "b", **kw)
    assert resumed.curves.equals(full.curves)
    assert np.array_equal(resumed.final_accuracy, full.final_accuracy)
    assert np.array_equal(resumed.trials_to_criterion, full.trials_to_criterion, equal_nan=True)
    p_full, p_res = _params(full_model), _params(resumed_model)
    assert all(torch.equal(p_full[k], p_res[k]) for k in p_full)
    # a different run must not silently resume from this checkpoint
    with pytest.raises(ValueError, match=r"written by a different run \(differs in \['lr'\]\)"):
        _train_quiet(_model(task, sigma_rec=0.1), task, checkpoint_dir=tmp_path / "b", **{**kw, "lr": 0.5})


def test_checkpoint_loads_without_pickle(tmp_path):
    task = _gonogo()
    _train_quiet(_model(task), task, n_steps=2, eval_every=1, eval_batch_size=8, checkpoint_dir=tmp_path,
                 checkpoint_every=1)
    payload = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert payload["format"] == "conn2rnn-train-checkpoint"


# ----------------------------------------------------------------------------- divergence
def test_diverging_network_is_frozen_and_others_continue():
    task = _gonogo()
    kw = dict(activation="linear", dtype=torch.float32)
    ens = _model(task, k=3, **kw)
    with torch.no_grad():
        ens.w_rec_raw[1].mul_(1e4)  # explodes to inf within the trial
    frozen = ens.network(1)
    ref0, ref2 = ens.network(0), ens.network(2)
    kw_train = dict(n_steps=3, eval_every=1, eval_batch_size=8, lr=1e-2)
    res = _train_quiet(ens, task, **kw_train)
    assert res.diverged.tolist() == [False, True, False]
    assert res.diverged_step[1] == 1 and np.isnan(res.diverged_step[[0, 2]]).all()
    for name, p in frozen.named_parameters():
        assert torch.equal(getattr(ens, name)[1], p[0]), name
    for k, ref in ((0, ref0), (2, ref2)):
        _train_quiet(ref, task, **kw_train)
        for name, p in ref.named_parameters():
            torch.testing.assert_close(getattr(ens, name)[k], p[0], rtol=1e-6, atol=1e-7)
    assert res.summary()["diverged"].tolist() == [False, True, False]


# ----------------------------------------------------------------------------- losses
def test_task_losses_match_torch_references():
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(5, 2, 3, 4, generator=gen, dtype=F64)
    mask = (torch.rand(5, 3, generator=gen) > 0.3).to(F64)
    targets = torch.randint(0, 4, (5, 3), generator=gen)
    got = U.task_loss(out, {"targets": targets, "loss_mask": mask}, "classification")
    for k in range(2):
        ce = torch.nn.functional.cross_entropy(out[:, k].reshape(-1, 4), targets.reshape(-1), reduction="none")
        torch.testing.assert_close(got[k], (ce * mask.reshape(-1)).sum() / mask.sum())
    y = torch.randn(5, 3, 4, generator=gen, dtype=F64)
    got = U.task_loss(out, {"targets": y, "loss_mask": mask}, "regression")
    for k in range(2):
        mse = ((out[:, k] - y) ** 2).mean(-1)
        torch.testing.assert_close(got[k], (mse * mask).sum() / mask.sum())


def test_regression_task_trains():
    task = get_task("impulse_recall")
    model = BioRNN(task.n_inputs, 8, task.n_outputs, n_networks=2, dt=task.dt, tau=max(task.dt, 50.0))
    res = _train_quiet(model, task, n_steps=4, eval_every=2, eval_batch_size=8, lr=1e-2)
    assert np.isfinite(res.curves["loss"].iloc[2:]).all()
    assert res.final_accuracy.shape == (2,)


# ----------------------------------------------------------------------------- errors
def test_training_errors(tmp_path):
    task = _gonogo()
    with pytest.raises(ValueError, match=r"task 'dms' has n_inputs=3 but the model has 2|has n_inputs"):
        _train_quiet(BioRNN(2, 4, 2), get_task("dms"), n_steps=1)
    with pytest.raises(ValueError, match="n_outputs=2 but the model has 5"):
        _train_quiet(BioRNN(3, 4, 5), task, n_steps=1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        _train_quiet(_model(task), task, n_steps=1, lr=-1.0)
    with pytest.raises(ValueError, match="n_steps must be an int >= 0"):
        _train_quiet(_model(task), task, n_steps=2.5)
    with pytest.raises(ValueError, match="pass regime and regime_arrays together"):
        _train_quiet(_model(task), task, n_steps=1, regime=get_regime("l1"))
    with pytest.raises(TypeError, match="model must be a BioRNN"):
        _train_quiet(torch.nn.Linear(2, 2), task, n_steps=1)
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        _train_quiet(_model(task), "nope", n_steps=1)
    with pytest.raises(ValueError, match="strengths > 0 need a regime"):
        _train_quiet(_model(task, strengths=0.1), task, n_steps=1)


# ----------------------------------------------------------------------------- devices
_CUDA = torch.cuda.is_available()


def test_explicit_cpu_device_is_the_default_run(tmp_path):
    task = _gonogo()
    kw = dict(n_steps=4, eval_every=2, eval_batch_size=16, seed=3, lr=1e-2)
    default_model, cpu_model = _model(task, sigma_rec=0.1), _model(task, sigma_rec=0.1)
    default = _train_quiet(default_model, task, **kw)
    on_cpu = _train_quiet(cpu_model, task, device="cpu", checkpoint_dir=tmp_path, **kw)
    assert on_cpu.curves.equals(default.curves)
    p_default, p_cpu = _params(default_model), _params(cpu_model)
    assert all(torch.equal(p_default[k], p_cpu[k]) for k in p_default)
    payload = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert all(t.device.type == "cpu" for t in payload["model"].values())


@pytest.mark.parametrize("device, message", [
    ("tpu", "device must be 'cpu', 'cuda', 'cuda:N' or a torch.device; got 'tpu'"),
    (3.5, "device must be 'cpu', 'cuda', 'cuda:N' or a torch.device; got 3.5"),
])
def test_unknown_device_is_refused(device, message):
    task = _gonogo()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        _train_quiet(_model(task), task, n_steps=1, device=device)


@pytest.mark.skipif(_CUDA, reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused_before_anything_runs():
    task = _gonogo()
    model = _model(task)
    before = _params(model)
    with pytest.raises(ValueError, match="device='cuda' but this torch has no usable CUDA device"):
        _train_quiet(model, task, n_steps=1, device="cuda")
    assert all(torch.equal(before[k], p) for k, p in _params(model).items())


@pytest.mark.skipif(not _CUDA, reason="needs a CUDA GPU")
def test_gpu_run_matches_cpu_run_and_resumes_across_devices(tmp_path):
    task = _gonogo()
    kw = dict(n_steps=6, eval_every=2, eval_batch_size=32, seed=5, lr=1e-2, checkpoint_every=3)
    cpu_model, gpu_model = _model(task, sigma_rec=0.1, dtype=F64), _model(task, sigma_rec=0.1, dtype=F64)
    cpu = _train_quiet(cpu_model, task, **kw)
    gpu = _train_quiet(gpu_model, task, device="cuda", checkpoint_dir=tmp_path / "gpu", **kw)
    assert gpu_model.w_rec_raw.device.type == "cpu"  # back on its own device
    np.testing.assert_allclose(gpu.curves["loss"], cpu.curves["loss"], rtol=1e-8)
    for name, p in _params(cpu_model).items():
        np.testing.assert_allclose(_params(gpu_model)[name].numpy(), p.numpy(), rtol=1e-7, atol=1e-10)
    # a run checkpointed on the GPU continues on the CPU
    first = _model(task, sigma_rec=0.1, dtype=F64)
    _train_quiet(first, task, device="cuda", checkpoint_dir=tmp_path / "mixed", **{**kw, "n_steps": 3})
    resumed = _model(task, sigma_rec=0.1, dtype=F64)
    _train_quiet(resumed, task, device="cpu", checkpoint_dir=tmp_path / "mixed", **kw)
    for name, p in _params(cpu_model).items():
        np.testing.assert_allclose(_params(resumed)[name].numpy(), p.numpy(), rtol=1e-7, atol=1e-10)
