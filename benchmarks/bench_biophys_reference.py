"""Speed of the biophysical reference network: the torch engine against Jaxley on one CPU.

Times one trial of the full reference network (50 E, 25 I, noise, cue and readout cells)
in the torch engine (one trial, and ``--batch`` trials at once, eager and with the step
compiled by ``torch.compile``, the compilation excluded) and, when jaxley is
installed (run it from the environment of ``.ci/jaxley.sh``), in Jaxley (jit-compiled,
the compile excluded), both float64 at dt = 0.025 ms on the same noise and initial
state. It also reports what float32 and dt = 0.05 ms change: the time of the first
1 mV departure from the float64 / 0.025 ms run and the E-rate differences.

Usage: python benchmarks/bench_biophys_reference.py [--duration MS] [--batch B] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from conn2rnn.biophys.reference_network import from_unit
from conn2rnn.biophys.reference_task import CUES, ReferenceNetwork, cue_amplitudes


def _setup(duration: float, dt: float = 0.025, dtype=torch.float64, compile: bool = False):
    p = from_unit(np.random.default_rng(0).uniform(size=(1, 26)), "NMDA_soma")
    cue_on = (250.0, 275.0) if duration > 275 else (0.25 * duration, 0.5 * duration)
    return ReferenceNetwork(p, "NMDA_soma", dt=dt, duration_ms=duration, cue_on_ms=cue_on, dtype=dtype,
                            compile=compile)


def _inputs(net, b: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    noise = 0.06 * rng.standard_normal((net.n_steps, b, net.circuit.n_noise))
    return noise, rng.uniform(-80, -40, (b, net.n_e, 16)), rng.uniform(-80, -40, (b, net.n_e // 2, 4))


def _first_departure(a: np.ndarray, b: np.ndarray, dt: float, tol: float = 1.0) -> float | None:
    bad = np.abs(a - b).reshape(a.shape[0], -1).max(1) > tol
    return float(np.argmax(bad) * dt) if bad.any() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=1000.0, help="trial length, ms (the reference: 1000)")
    ap.add_argument("--batch", type=int, default=20, help="trials simulated at once in the batched timing")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out: dict = {"duration_ms": args.duration, "threads": args.threads}

    net = _setup(args.duration)
    net.cue_r()  # the deterministic cue cells, once per dt and duration
    noise, v_e, v_i = _inputs(net, args.batch)
    t0 = time.perf_counter()
    ref = net.simulate([1], noise=noise[:, :1], v0=(v_e[:1], v_i[:1]), record_v=True)
    out["torch_one_trial_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.simulate(np.arange(args.batch) % 4, noise=noise, v0=(v_e, v_i))
    out["torch_batched_per_trial_s"] = (time.perf_counter() - t0) / args.batch
    out["batch"] = args.batch
    # the same batch with the step compiled (torch.compile); the first call pays the compilation
    net_c = _setup(args.duration, compile=True)
    t0 = time.perf_counter()
    net_c.simulate(np.arange(args.batch) % 4, noise=noise, v0=(v_e, v_i))
    out["torch_compiled_first_call_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rc = net_c.simulate(np.arange(args.batch) % 4, noise=noise, v0=(v_e, v_i))
    out["torch_compiled_batched_per_trial_s"] = (time.perf_counter() - t0) / args.batch
    t0 = time.perf_counter()
    net_c.simulate([1], noise=noise[:, :1], v0=(v_e[:1], v_i[:1]))
    out["torch_compiled_one_trial_first_call_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rc1 = net_c.simulate([1], noise=noise[:, :1], v0=(v_e[:1], v_i[:1]), record_v=True)
    out["torch_compiled_one_trial_s"] = time.perf_counter() - t0
    out["compiled_vs_eager_max_abs_dv_mv"] = float(np.abs(rc1.v_trace["E_soma"][0, 0] - ref.v_trace["E_soma"][0, 0]).max())
    del rc

    # float32 and a coarser step against the float64 / 0.025 ms run
    soma = ref.v_trace["E_soma"][0, 0]
    rates = ref.e_spikes[0, 0].sum(0) / (args.duration / 1000.0)
    net32 = _setup(args.duration, dtype=torch.float32)
    r32 = net32.simulate([1], noise=noise[:, :1], v0=(v_e[:1], v_i[:1]), record_v=True)
    out["float32_first_1mV_departure_ms"] = _first_departure(soma, r32.v_trace["E_soma"][0, 0], net.dt)
    out["float32_rate_diff_hz_mean_abs"] = float(np.abs(r32.e_spikes[0, 0].sum(0) / (args.duration / 1000) - rates).mean())
    net50 = _setup(args.duration, dt=0.05)
    # the same noise current, averaged over pairs of 0.025 ms steps
    n50 = net50.n_steps
    noise50 = noise[: 2 * n50, :1].reshape(n50, 2, 1, -1).mean(1)
    t0 = time.perf_counter()
    r50 = net50.simulate([1], noise=noise50, v0=(v_e[:1], v_i[:1]), record_v=True)
    out["dt0.05_one_trial_s"] = time.perf_counter() - t0
    out["dt0.05_first_1mV_departure_ms"] = _first_departure(soma[::2][: n50 + 1], r50.v_trace["E_soma"][0, 0], 0.05)
    out["dt0.05_rate_diff_hz_mean_abs"] = float(np.abs(r50.e_spikes[0, 0].sum(0) / (args.duration / 1000) - rates).mean())
    out["mean_e_rate_hz"] = float(rates.mean())

    try:
        from conn2rnn.biophys.jaxley_reference import jaxley_network, jaxley_trial_fn, simulate_jaxley_network
    except ImportError:
        out["jaxley"] = "not installed"
    else:
        try:
            amps = cue_amplitudes(CUES)[1]
            cur = np.zeros((net.n_steps, amps.size))
            on = (int(round(net.cue_on_ms[0] / net.dt)), int(round(net.cue_on_ms[1] / net.dt)))
            cur[on[0]:on[1]] = amps
            jnet, gids = jaxley_network(net.circuit, amps[None])
            fn = jaxley_trial_fn(jnet, gids, net.n_steps, net.dt)
            kw = dict(cue_current_na=cur, noise_na=noise[:, 0], v0_e=v_e[0], v0_i=v_i[0], trial_fn=fn)
            t0 = time.perf_counter()
            jx = simulate_jaxley_network(jnet, gids, **kw)
            out["jaxley_first_call_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            simulate_jaxley_network(jnet, gids, **kw)
            out["jaxley_one_trial_s"] = time.perf_counter() - t0
            out["jaxley_max_abs_dv_mv"] = float(np.abs(jx["E_soma"] - soma).max())
            out["speedup_one_trial"] = out["jaxley_one_trial_s"] / out["torch_one_trial_s"]
            out["speedup_batched"] = out["jaxley_one_trial_s"] / out["torch_batched_per_trial_s"]
            out["speedup_compiled_one_trial"] = out["jaxley_one_trial_s"] / out["torch_compiled_one_trial_s"]
            out["speedup_compiled_batched"] = out["jaxley_one_trial_s"] / out["torch_compiled_batched_per_trial_s"]
        except ImportError as exc:
            out["jaxley"] = str(exc)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
