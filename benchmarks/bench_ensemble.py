"""Ensemble training throughput of BioRNN on CPU.

Measures, in one run:

1. one training step (forward + backward + Adam) of K = 100 networks
   (N = 100, B = 32, T = 50) as one ensemble, versus a Python loop over 100
   single-network (K = 1) BioRNN modules with one Adam each (which already use
   the fused recurrence), and, for reference, versus a loop over 100 networks
   written as plain per-step autograd ops (median of 3 sweeps);
2. the achieved matmul GFLOP/s of the ensemble step against the batched-matmul
   peak measured in the same run (``torch.bmm`` of [K, B, N] x [K, N, N], the
   recurrence's per-step product, in steady state);
3. the peak memory of one training step for K = 1000, measured in a fresh
   subprocess as the growth of its peak resident set size
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) from just before the step to
   just after it (the model and batch are built before the baseline is read).

Run: ``python benchmarks/bench_ensemble.py [--threads 2] [--rounds 5]``.
The three timings are taken in interleaved rounds (after a warm-up round) and
reported as medians, so that load from other processes affects them alike; the
1-minute load average is printed with the table. On a shared machine, compare
``--threads 1``: with two OpenMP threads and a busy second core every parallel
region waits for the descheduled thread.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

from conn2rnn.fitting import _training_utils as U
from conn2rnn.models.biornn import BioRNN

T, B, N, I, O = 50, 32, 100, 3, 2


def _batch(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(T, B, I, generator=gen)
    targets = {"targets": torch.randint(0, O, (T, B), generator=gen), "loss_mask": torch.ones(T, B)}
    return x, targets


def _step(model: BioRNN, opt: torch.optim.Optimizer, x, targets) -> None:
    outputs, _ = model(x)
    loss = U.task_loss(outputs, targets, "classification")
    opt.zero_grad(set_to_none=False)
    loss.sum().backward()
    opt.step()


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class _AutogradRNN(torch.nn.Module):
    """The same leaky tanh network written as plain per-step autograd ops (for reference)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.linalg.qr(torch.randn(N, N, generator=gen))[0])
        self.w_in = torch.nn.Parameter(torch.randn(N, I, generator=gen) / I**0.5)
        self.w_out = torch.nn.Parameter(torch.randn(O, N, generator=gen) / N**0.5)
        self.b = torch.nn.Parameter(torch.zeros(N))
        self.b_out = torch.nn.Parameter(torch.zeros(O))

    def forward(self, x):
        h, alpha, states = x.new_zeros(x.shape[1], N), 0.1, []
        u = x @ self.w_in.T + self.b
        for t in range(x.shape[0]):
            h = h + alpha * (torch.tanh(u[t] + h @ self.w.T) - h)
            states.append(h)
        return (torch.stack(states) @ self.w_out.T + self.b_out).unsqueeze(1), None


def step_flops(k: int) -> float:
    """Matmul FLOPs of one training step: recurrence (forward, backward state and
    weight gradients: 3 products per step) plus input and readout projections
    (forward, input/weight gradients: 3 each; the input gradient is not needed
    for the data, so 2 for the input projection)."""
    rec = 3 * 2 * T * k * B * N * N
    proj_in = 2 * 2 * T * k * B * N * I
    proj_out = 3 * 2 * T * k * B * N * O
    return float(rec + proj_in + proj_out)


def bmm_peak(k: int, reps: int = 50) -> float:
    """GFLOP/s of torch.bmm on [K, B, N] x [K, N, N] over ``reps`` back-to-back calls
    into a preallocated output (after one warm-up call)."""
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(k, B, N, generator=gen)
    w = torch.randn(k, N, N, generator=gen)
    out = torch.empty(k, B, N)
    torch.bmm(h, w, out=out)

    def run():
        for _ in range(reps):
            torch.bmm(h, w, out=out)

    return 2.0 * k * B * N * N * reps / _time(run) / 1e9


def memory_child(k: int) -> None:
    """Entry of the subprocess: one training step at ensemble size k; prints JSON."""
    x, targets = _batch()
    model = BioRNN(I, N, O, n_networks=k, dt=10.0, tau=100.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    t0 = time.perf_counter()
    _step(model, opt, x, targets)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"k": k, "rss_before_mib": before / 1024, "rss_peak_mib": after / 1024,
                      "step_delta_mib": (after - before) / 1024, "step_s": elapsed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--k-memory", type=int, default=1000)
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_child is not None:
        memory_child(args.memory_child)
        return
    load_before = os.getloadavg()[0]
    k = args.k
    x, targets = _batch()
    ensemble = BioRNN(I, N, O, n_networks=k, dt=10.0, tau=100.0)
    opt = torch.optim.Adam(ensemble.parameters(), lr=1e-3)
    singles = [BioRNN(I, N, O, seeds=[s], dt=10.0, tau=100.0) for s in range(k)]
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in singles]

    def loop():
        for m, o in zip(singles, opts):
            _step(m, o, x, targets)

    # interleaved rounds, so that load from other processes hits every measurement alike
    t_ens, t_loop, peaks = [], [], []
    for r in range(args.rounds + 1):
        te = _time(lambda: _step(ensemble, opt, x, targets))
        tl = _time(loop)
        pk = bmm_peak(k)
        if r:  # round 0 warms up
            t_ens.append(te)
            t_loop.append(tl)
            peaks.append(pk)
    t_e, t_l, peak = (statistics.median(v) for v in (t_ens, t_loop, peaks))
    plain = [_AutogradRNN(s) for s in range(k)]
    plain_opts = [torch.optim.Adam(m.parameters(), lr=1e-3) for m in plain]
    t_plain = statistics.median(
        _time(lambda: [_step(m, o, x, targets) for m, o in zip(plain, plain_opts)]) for _ in range(3)
    )
    achieved = step_flops(k) / t_e / 1e9

    child = subprocess.run(
        [sys.executable, __file__, "--threads", str(args.threads), "--memory-child", str(args.k_memory)],
        check=True, capture_output=True, text=True,
    )
    mem = json.loads(child.stdout.strip().splitlines()[-1])

    rows = [
        ("torch threads", f"{torch.get_num_threads()}"),
        ("1-min load average before / after", f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"),
        (f"ensemble step, K={k} (s)", f"{t_e:.3f}"),
        (f"loop of {k} K=1 steps (s)", f"{t_l:.3f}"),
        ("speed-up ensemble / loop", f"{t_l / t_e:.1f}x"),
        (f"loop of {k} plain-autograd K=1 steps (s)", f"{t_plain:.3f}"),
        ("speed-up ensemble / plain-autograd loop", f"{t_plain / t_e:.1f}x"),
        ("ensemble matmul GFLOP/s", f"{achieved:.1f}"),
        ("bmm peak GFLOP/s [K,B,N]x[K,N,N]", f"{peak:.1f}"),
        ("fraction of bmm peak", f"{achieved / peak:.0%}"),
        (f"K={mem['k']} step time (s)", f"{mem['step_s']:.2f}"),
        (f"K={mem['k']} peak RSS growth in step (MiB)", f"{mem['step_delta_mib']:.0f}"),
        (f"K={mem['k']} process peak RSS (MiB)", f"{mem['rss_peak_mib']:.0f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"BioRNN ensemble benchmark (N={N}, B={B}, T={T}, I={I}, O={O}, float32, CPU; "
          f"medians of {args.rounds} rounds)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>12}")


if __name__ == "__main__":
    main()
