"""Count what a student steps through in one training update: files, lines and file-to-file jumps.

Issue 31 asks for "the CD-1 path counted again (files and lines a student opens from ``Trainer.fit`` to the
parameter change, default backend)". This probe runs ``Trainer.fit`` on one minibatch of CD-1 (after an
untraced warm-up fit, so module imports are not counted) under ``sys.settrace`` and records every line executed
inside the ``pretrainlab`` package: the distinct files, the distinct lines, and the number of calls that cross from one file into
another (a "jump" — what a debugger's *step into* makes a student follow). Lines run inside a Numba kernel
are invisible to the trace, exactly as they are to a debugger; the probe reports whether a kernel ran.

    python docs/probes/reading_path.py            # prints a table and writes JSON with --out
    python docs/probes/reading_path.py --out docs/results/reading-path-after.json
"""
import argparse
import json
import os
import sys

import numpy as np


def trace_fit(make):
    """Run ``make()`` → (trainer, x) and trace ``trainer.fit(x, epochs=1)`` over a single minibatch."""
    import pretrainlab
    root = os.path.dirname(pretrainlab.__file__)
    warm, x = make()  # untraced first: imports, the Numba cache and first-call set-up are not the step
    warm.fit(x, epochs=1)
    trainer, x = make()
    lines, files, jumps = set(), set(), 0
    kernel_files = set()

    def local(frame, event, arg):
        if event == "line":
            lines.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def tracer(frame, event, arg):
        nonlocal jumps
        filename = frame.f_code.co_filename
        if not filename.startswith(root):
            return None
        rel = os.path.relpath(filename, root)
        if rel.startswith("kernels" + os.sep) and rel not in ("kernels/backend.py", "kernels/__init__.py"):
            kernel_files.add(rel)
        files.add(rel)
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename != filename:
            jumps += 1
        return local

    sys.settrace(tracer)
    try:
        trainer.fit(x, epochs=1)
    finally:
        sys.settrace(None)
    return {"files": sorted(files), "n_files": len(files), "n_lines": len(lines), "jumps": jumps,
            "kernel_modules_entered": sorted(kernel_files)}


def cd1(batch):
    from pretrainlab import SGD, BernoulliRBM, ContrastiveDivergence, Trainer
    rng = np.random.default_rng(0)
    x = (rng.random((batch, 784)) < 0.3).astype(np.float32)
    rbm = BernoulliRBM(784, 500, rng=rng)
    trainer = Trainer(rbm, SGD(rbm.params, lr=0.1, momentum=0.5), step=ContrastiveDivergence(rbm, k=1),
                      batch_size=batch, rng=rng, verbose=False)
    return trainer, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the counts as JSON here")
    args = parser.parse_args()
    import pretrainlab
    from pretrainlab import kernels
    kernels.get_backend()
    results = {"pretrainlab": os.path.dirname(pretrainlab.__file__), "backend": kernels.get_backend(), "cases": {}}
    for name, make in [("cd1_batch100", lambda: cd1(100)), ("cd1_batch10", lambda: cd1(10))]:
        results["cases"][name] = trace_fit(make)
    for name, res in results["cases"].items():
        print(f"{name:14s} files {res['n_files']:3d}  lines {res['n_lines']:4d}  jumps {res['jumps']:4d}  "
              f"kernels {res['kernel_modules_entered']}")
        print("    " + " ".join(res["files"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
