"""Sweep scaling from 1 to 2 Dask workers on a CPU-bound, single-threaded executor.

Each group trains a tiny ensemble of leaky tanh RNNs with BPTT in torch (one
thread), for a number of steps calibrated to take about ``--seconds`` per group:
the same kind of work as a real sweep, small. One warm ``LocalCluster`` of 1 and
one of 2 single-threaded workers are started (start-up and the workers' torch
import are timed apart), then the same sweep runs on each, interleaved
``--repeats`` times, each into a fresh
:class:`~conn2rnn.experiments.store.ResultStore`; the best wall time of each is
kept, and every run must give identical losses. Efficiency is
``T1 / (2 * T2)`` (target: >= 80%). The same groups in 1 and 2 plain processes
(no Dask, no store) give the machine's own ceiling for comparison (``--baseline``).

Run::

    python benchmarks/bench_dask_scaling.py [--groups 12] [--seconds 0.5] [--repeats 2] [--baseline]

The figures are only meaningful on a machine with at least 2 otherwise idle
cores; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from conn2rnn.experiments.runners import run_groups
from conn2rnn.experiments.store import ResultStore

K, N, B, T = 4, 48, 16, 30  # networks per group, units, batch, time steps


def train_group(group: dict, *, workdir: Path) -> dict:
    """BPTT on an ensemble of K leaky tanh RNNs; one thread; rows: final loss per network."""
    import torch

    torch.set_num_threads(1)
    cpu = time.process_time()
    gen = torch.Generator().manual_seed(group["seed"])
    w = (torch.randn(K, N, N, generator=gen) / N ** 0.5).requires_grad_()
    w_in = torch.randn(K, N, 2, generator=gen)
    x = torch.randn(T, B, 2, generator=gen)
    target = torch.sin(torch.arange(T, dtype=torch.float32) / 5)[:, None, None]
    opt = torch.optim.Adam([w], lr=1e-3)
    for _ in range(group["steps"]):
        h = torch.zeros(K, B, N)
        outs = []
        for t in range(T):
            h = h + 0.2 * (-h + torch.tanh(h @ w.transpose(1, 2) + x[t] @ w_in.transpose(1, 2)))
            outs.append(h.mean(-1))
        loss_k = ((torch.stack(outs) - target) ** 2).mean(dim=(0, 2))  # (K,)
        opt.zero_grad()
        loss_k.sum().backward()
        opt.step()
    rows = [{"run_id": run_id, "metric": "final_loss", "value": float(loss)}
            for run_id, loss in zip(group["run_ids"], loss_k.detach())]
    rows.append({"run_id": group["run_ids"][0], "metric": "cpu_seconds",
                 "value": time.process_time() - cpu})
    return {"rows": rows, "curves": None, "artifacts": {}}


def _calibrate(seconds: float) -> int:
    """Training steps that take about ``seconds`` in this process (one thread)."""
    import torch

    threads = torch.get_num_threads()
    group = {"seed": 0, "steps": 3, "run_ids": [f"calib/{k}" for k in range(K)]}
    train_group(group, workdir=Path("."))  # warm up
    start = time.perf_counter()
    train_group(group, workdir=Path("."))
    per_step = (time.perf_counter() - start) / 3
    torch.set_num_threads(threads)
    return max(1, round(seconds / per_step))


def _warm() -> None:
    import torch  # noqa: F401  (the workers' one-off import is not sweep time)


def _bare_worker(groups: list[dict], barrier, times) -> None:
    _warm()
    barrier.wait()
    start = time.perf_counter()
    for group in groups:
        train_group(group, workdir=Path("."))
    times.put(time.perf_counter() - start)


def _bare(groups: list[dict], n: int) -> float:
    """Wall time of ``n`` plain processes sharing the groups: no Dask, no store (the ceiling)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, times = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_bare_worker, args=(groups[i::n], barrier, times)) for i in range(n)]
    for proc in procs:
        proc.start()
    wall = max(times.get() for _ in procs)
    for proc in procs:
        proc.join()
    return wall


def _sweep(groups: list[dict], client) -> dict[str, float | pd.DataFrame]:
    with tempfile.TemporaryDirectory() as root:
        store = ResultStore(root)
        start = time.perf_counter()
        table = run_groups(groups, train_group, store, runner="dask", scheduler=client,
                           progress=False)
        wall = time.perf_counter() - start
        busy = sum(store.entry(g["group_id"])["seconds"] for g in groups)
    cpu = table.loc[table.metric == "cpu_seconds", "value"].sum()
    losses = table[table.metric == "final_loss"].sort_values("run_id").reset_index(drop=True)
    return {"wall": wall, "busy": busy, "cpu": cpu, "losses": losses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=12, help="groups in the sweep (default 12)")
    parser.add_argument("--seconds", type=float, default=0.5, help="target seconds per group")
    parser.add_argument("--repeats", type=int, default=2, help="sweeps per worker count (best kept)")
    parser.add_argument("--baseline", action="store_true",
                        help="also time the groups in 1 and 2 plain processes (no Dask, no store)")
    args = parser.parse_args()
    from dask.distributed import Client, LocalCluster

    steps = _calibrate(args.seconds)
    groups = [{"group_id": f"bench{i:03d}", "seed": i, "steps": steps,
               "run_ids": [f"bench/g{i}/net{k}" for k in range(K)]} for i in range(args.groups)]
    print(f"{args.groups} groups x {steps} BPTT steps (K={K}, N={N}, B={B}, T={T}), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} before")
    runs: dict[int, list[dict]] = {1: [], 2: []}
    with contextlib.ExitStack() as stack:
        clients, startup = {}, {}
        for n in runs:
            start = time.perf_counter()
            cluster = stack.enter_context(LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                silence_logs=logging.ERROR, env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}))
            clients[n] = stack.enter_context(Client(cluster))
            clients[n].run(_warm)
            startup[n] = time.perf_counter() - start
        bare: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):  # interleaved, so a burst of load hits all alike
            for n in runs:
                runs[n].append(_sweep(groups, clients[n]))
            for n in runs if args.baseline else ():
                bare[n].append(_bare(groups, n))
    reference = runs[1][0]["losses"]
    for run in runs[1] + runs[2]:  # same numbers whatever the worker count
        pd.testing.assert_frame_equal(run["losses"].drop(columns="group_id"),
                                      reference.drop(columns="group_id"))

    best = {n: min(r, key=lambda run: run["wall"]) for n, r in runs.items()}
    t1, t2 = best[1]["wall"], best[2]["wall"]
    print(f"\n{'workers':>7} {'startup s':>9} {'sweep s':>8} {'exec s/group':>12} "
          f"{'cpu s/group':>11} {'in executor':>11} {'speedup':>7} {'efficiency':>10}")
    for n, run in best.items():
        g = len(groups)
        print(f"{n:>7} {startup[n]:>9.2f} {run['wall']:>8.2f} {run['busy'] / g:>12.3f} "
              f"{run['cpu'] / g:>11.3f} {run['busy'] / (n * run['wall']):>11.1%} "
              f"{t1 / run['wall']:>7.2f} {t1 / (n * run['wall']):>10.1%}")
    if args.baseline:
        b1, b2 = min(bare[1]), min(bare[2])
        print(f"{'plain':>7} {'':>9} {b1:>8.2f} {'(1 process, no Dask)':>45}")
        print(f"{'plain':>7} {'':>9} {b2:>8.2f} {'(2 processes, no Dask)':>45} "
              f"{b1 / b2:>7.2f} {b1 / (2 * b2):>10.1%}")
    print(f"\nefficiency T1 / (2 * T2) = {t1 / (2 * t2):.1%} (target >= 80%), best of "
          f"{args.repeats}; load average {os.getloadavg()[0]:.2f} after; losses identical.\n"
          "'in executor': share of the workers' wall time spent inside the executor (the rest is "
          "scheduling and recording); cpu s/group rising with 2 workers means the two cores slow "
          "each other (shared caches, hyperthreads); exec > cpu s/group, that other processes "
          "shared the cores.")


if __name__ == "__main__":
    main()
