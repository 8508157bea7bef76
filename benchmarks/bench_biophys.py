"""Biophysical reservoir engine: batched trials vs a loop of single trials, throughput, search round.

Three measurements on the default network (50 E + 25 I two-compartment cells):

1. the same ``--trials`` trials simulated as one batch and as a loop of one-trial
   runs (same parameters, same duration): wall times and their ratio;
2. simulated trial-seconds per wall-second of the batched run;
3. the wall time of one search round of the working-memory reproduction
   (``--proposals`` parameter sets x 8 trials of 1000 ms, one batch), unless
   ``--no-round``.

Times are wall-clock on this machine, reported as measured; compare ratios, not
absolute numbers, across machines.

Usage::

    python benchmarks/bench_biophys.py [--trials 200] [--duration 25] [--dt 0.1] [--threads 1]
                                       [--proposals 10] [--no-round] [--float32]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from conn2rnn.biophys import BiophysicalReservoir, default_parameters
from conn2rnn.biophys.experiment import brc_objective, start_point


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--duration", type=float, default=25.0, help="ms per trial (batched vs loop)")
    parser.add_argument("--dt", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--proposals", type=int, default=10)
    parser.add_argument("--no-round", action="store_true")
    parser.add_argument("--float32", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.float32 else torch.float64
    model = BiophysicalReservoir(default_parameters(), dt=args.dt, dtype=dtype)
    n_t = int(round(args.duration / model.record_dt))
    inputs = np.zeros((n_t, args.trials, 3))
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.threads} thread(s), dt {args.dt} ms, {dtype}")

    t0 = time.perf_counter()
    batched = model.simulate(inputs, seed=0)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    for b in range(args.trials):
        model.simulate(inputs[:, b:b + 1], seed=b)
    t_loop = time.perf_counter() - t0
    assert not batched.diverged.any()
    trial_s = args.trials * args.duration / 1e3
    print(f"batched, {args.trials} trials x {args.duration:g} ms: {t_batch:.2f} s")
    print(f"loop of single trials:                {t_loop:.2f} s")
    print(f"speed-up (loop / batched):            {t_loop / t_batch:.1f}x")
    print(f"simulated trial-seconds per wall-second (batched): {trial_s / t_batch:.3f}")

    if not args.no_round:
        ctx = {"condition": "NMDA_dend", "n_repeats": 2, "dt": args.dt,
               "dtype": "float32" if args.float32 else "float64", "network_seed": 0}
        params = [start_point()] * args.proposals
        t0 = time.perf_counter()
        scores = brc_objective(params, ctx, seed=0)
        t_round = time.perf_counter() - t0
        print(f"one search round ({args.proposals} proposals x 8 trials x 1000 ms): {t_round:.1f} s "
              f"(scores finite: {int(np.isfinite(scores).sum())}/{len(scores)})")


if __name__ == "__main__":
    main()
