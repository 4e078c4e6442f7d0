"""The command line as a user runs it: `pretrainlab demo --quick` and `pretrainlab experiment`."""
import json
import os
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
    assert proc.returncode == 2 and "invalid choice" in proc.stderr and "pretraining" in proc.stderr


def test_version_and_help_list_the_experiments():
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("pretrainlab ")
    proc = run_cli("experiment", "--help")
    assert proc.returncode == 0 and "rbm-likelihood" in proc.stdout
    proc = run_cli("--help")
    assert proc.returncode == 0 and "``" not in proc.stdout  # no reStructuredText markup


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    """A negative seed, an --out that is a file, a bad backend, a missing data folder, a time budget of 0 hours or
    one for an experiment that runs as one unit: one line, status 2."""
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [(["demo", "--quick", "--seed", "-1"], {}),
             (["demo", "--quick", "--out", str(a_file)], {}),
             (["demo", "--quick", "--out", str(tmp_path / "a")], {"PRETRAINLAB_BACKEND": "cuda"}),
             (["demo", "--quick", "--out", str(tmp_path / "b")], {"PRETRAINLAB_DATA": str(tmp_path / "none")}),
             (["experiment", "pretraining", "--quick", "--hours", "0"], {}),
             (["experiment", "ae-dynamics", "--quick", "--hours", "1", "--out", str(tmp_path / "c")], {})]
    for args, env in cases:
        proc = subprocess.run([sys.executable, "-m", "pretrainlab", *args], capture_output=True, text=True,
                              timeout=120, env={**os.environ, **env})
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.stderr.strip().splitlines()[-1].startswith(("error:", "usage:", "pretrainlab")), proc.stderr


def test_reusing_an_out_folder_with_another_configuration_is_refused(tmp_path):
    out = tmp_path / "demo"
    from pretrainlab.runner.experiments import RunFolderMismatch, prepare

    prepare("demo", "quick", {"quick": {"n": 1}}, out, seed=0)
    prepare("demo", "quick", {"quick": {"n": 1}}, out, seed=0)  # the same configuration resumes
    for mode, seed, settings in (("quick", 3, {"n": 1}), ("quick", 0, {"n": 2})):
        try:
            prepare("demo", mode, {mode: settings}, out, seed=seed)
        except RunFolderMismatch as err:
            assert "to resume it rerun" in str(err) and "another --out" in str(err)
        else:
            raise AssertionError("a run folder of another configuration was reused")
    proc = run_cli("demo", "--quick", "--seed", "3", "--out", str(out))
    assert proc.returncode == 2 and "holds a run of" in proc.stderr


def test_import_is_cheap():
    """`import pretrainlab` must not compile kernels, load data or start a plotting backend."""
    code = ("import sys, time; t = time.perf_counter(); import pretrainlab; "
            "print(time.perf_counter() - t); print(sorted(m for m in ('numba', 'matplotlib', 'tqdm') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == "[]"  # heavy modules stay unloaded; the time is reported, not asserted
