"""The command line as a user runs it: `pretrainlab demo --quick` and `pretrainlab experiment`."""
import json
import subprocess
import sys


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pretrainlab", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_demo_quick_writes_figures_and_the_reconstruction_error_falls(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "--quick", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert str(out.resolve()) in proc.stdout
    for name in ("filters.png", "samples.png", "learning_curves.png", "model.npz", "results.json"):
        assert (out / name).stat().st_size > 0, name
    history = json.loads((out / "results.json").read_text())["history"]
    recon = history["recon_valid"]
    assert all(b < a for a, b in zip(recon, recon[1:])), recon


def test_unknown_experiment_is_a_clear_error():
    proc = run_cli("experiment", "no-such-study")
    assert proc.returncode == 2 and "unknown experiment" in proc.stderr


def test_import_is_cheap():
    """`import pretrainlab` must not compile kernels, load data or start a plotting backend."""
    code = ("import sys, time; t = time.perf_counter(); import pretrainlab; "
            "print(time.perf_counter() - t); print(sorted(m for m in ('numba', 'matplotlib', 'tqdm') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == "[]"  # heavy modules stay unloaded; the time is reported, not asserted
