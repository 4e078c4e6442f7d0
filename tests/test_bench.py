"""`pretrainlab bench --quick --json` runs every workload and reports the documented structure (never times)."""
import json
import math
import os
import subprocess
import sys

from pretrainlab.bench import WORKLOADS


def test_bench_quick_json_structure():
    # One BLAS thread: on a shared machine two threads per process can make small products very slow,
    # and this test checks the output's structure, never the times.
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "pretrainlab", "bench", "--quick", "--json"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert set(results) == set(WORKLOADS)
    for name, r in results.items():
        assert {"ours_s", "ref_s", "ratio", "goal", "meets_goal"} <= set(r), name
        assert r["ours_s"] > 0 and r["ref_s"] > 0, name
        expected = r["ours_s"] / r["ref_s"] if name.endswith("_vs_gemm") else r["ref_s"] / r["ours_s"]
        assert math.isclose(r["ratio"], expected, rel_tol=1e-9), name
        assert isinstance(r["meets_goal"], bool)
