"""Run every benchmark in one go and print their tables.

    python benchmarks/run_all.py            # about 5 minutes on 2 cores

1. ensemble training step vs a loop of single networks, GFLOP/s vs the bmm peak,
   peak memory at K = 1000 (bench_ensemble.py);
2. the batched reservoir engine vs reservoirpy on the same trials (bench_reservoir.py);
3. sweep scaling from 1 to 2 Dask workers (bench_dask_scaling.py);
4. dynamics measures on 100 networks at once vs one at a time (bench_dynamics.py);
5. batched biophysical simulation vs a loop of single trials, and one search round (bench_biophys.py).

Each benchmark runs in its own process so that thread settings and memory peaks do
not leak from one into the next. Figures are ratios measured within one run.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_ensemble.py", "bench_reservoir.py", "bench_dask_scaling.py", "bench_dynamics.py",
              "bench_biophys.py")


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
          f"python {platform.python_version()}")
    if hasattr(os, "getloadavg"):
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / name)])
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
