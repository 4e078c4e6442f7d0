"""``pretrainlab bench``: how fast the lab's hot loops run, each beside its reference and its peers.

How it measures (``runner.py``):

- **One process per implementation.** For each workload, the lab's code ("ours"), the reference ("ref": the
  step's matrix products alone, or the lab's NumPy path) and each peer ("numpy": the step in plain NumPy as a
  student writes it; "torch": PyTorch, where installed; "sklearn": scikit-learn's ``BernoulliRBM.partial_fit``
  for the CD workloads; and, in some rows, the lab's own variants: "lab-numpy", "no-maxnorm", "plain") run in a
  worker process of their own (``worker.py``). Importing PyTorch into the
  process that times NumPy slows NumPy's BLAS and biases every ratio; separate processes cannot.
- **BLAS threads set explicitly**: every worker runs on ``threads`` BLAS/OpenMP threads (default 1, through
  threadpoolctl and the environment), PyTorch too.
- **Interleaved rounds, best of each**: the parent asks the workers for one round each in turn (ours, ref,
  peer, ours, ref, peer, …), so slow drift of the machine's speed hits all alike; each keeps its best round
  (on a shared machine the least disturbed), and ratios are taken against the reference of the same
  interleaving. Rounds: 3 with ``--quick``, 5 in a full run (AIS 3), or ``--rounds``.
- **Spread**: max/min over the rounds of each implementation, and the range of the per-round ratio; a ratio
  whose range straddles the goal is not a verdict.
- **Progress**: a line per workload and round on stderr; ``--json`` keeps stdout one JSON object.

A peer that is not installed is reported as "absent", never an error. Wall-clock numbers depend on the machine
and its load — compare ratios, and quote the machine (``machine()``) and its load with them. ``--quick`` uses
small sizes: it proves the harness, not the speed. Tests never assert times.

``python -m pretrainlab.runner.bench [--quick] [--json] [--threads N] [--rounds N] [--only NAME ...]`` exposes every
option; ``pretrainlab bench [--quick] [--json]`` runs the defaults.
"""
from .runner import main, measure, run, summary
from .workloads import IMPLS, WORKLOADS, Workload, machine

__all__ = ["IMPLS", "WORKLOADS", "Workload", "machine", "main", "measure", "run", "summary"]
