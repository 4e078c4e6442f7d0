"""Execute the tutorials in place and commit-ready: every code cell's output is written into its .ipynb.

Usage (from the repository root, in the project's environment with the ``[dev]`` extra)::

    python tutorials/regenerate.py                 # every tutorial, default mode, outputs written in place
    python tutorials/regenerate.py --only 03 05    # only tutorials 03 and 05
    python tutorials/regenerate.py --quick         # quick mode (PRETRAINLAB_QUICK=1) on temporary copies:
                                                   # checks they run and times them, never writes the tutorials

The committed notebooks hold the outputs of a default-mode run (``metadata.pretrainlab.mode == "default"``, which
``tests/test_tutorials.py`` checks). A notebook that raises stops the script with a non-zero exit status and the
failing cell's traceback; the file is then left as it was. Each notebook's wall time is printed. Progress bars are
not part of a tutorial's output: the notebooks train with ``verbose=False`` where a bar would be drawn.

On a loaded machine, keep BLAS to one thread per process (``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1``).
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def notebooks(only=()):
    """The tutorials, sorted; ``only`` keeps those whose name starts with one of the given prefixes."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in only)]
        if not paths:
            raise SystemExit(f"--only {' '.join(only)}: no tutorial matches")
    return paths


def execute(path, quick, out_dir, timeout=3600):
    """Run one notebook top to bottom in its own folder; return the executed notebook (not yet written)."""
    env_backup = dict(os.environ)
    os.environ.update(MPLBACKEND="module://matplotlib_inline.backend_inline",
                      PRETRAINLAB_TUTORIAL_OUT=str(out_dir),
                      PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    os.environ.pop("PRETRAINLAB_QUICK", None)
    if quick:
        os.environ["PRETRAINLAB_QUICK"] = "1"
    try:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    notebook.metadata["pretrainlab"] = {"mode": "quick" if quick else "default"}
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="quick mode on temporary copies: check and time, leave the tutorials unchanged")
    parser.add_argument("--only", nargs="+", default=(), metavar="NN", help="tutorial numbers (name prefixes)")
    args = parser.parse_args(argv)
    times = {}
    with tempfile.TemporaryDirectory(prefix="pretrainlab-tutorials-") as tmp:
        for path in notebooks(args.only):
            start = time.perf_counter()
            try:
                notebook = execute(path, args.quick, Path(tmp))
            except CellExecutionError as err:
                print(f"FAILED {path.name} after {time.perf_counter() - start:.0f} s:\n{err}", file=sys.stderr)
                return 1
            times[path.name] = time.perf_counter() - start
            if args.quick:
                nbformat.write(notebook, Path(tmp) / path.name)   # a copy; the committed file is untouched
            else:
                nbformat.write(notebook, path)
            print(f"{path.name}: {times[path.name]:.0f} s ({'quick' if args.quick else 'default'} mode"
                  f"{'' if args.quick else ', outputs written'})", flush=True)
    print(f"total {sum(times.values()):.0f} s for {len(times)} tutorial(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
