"""Study 3's results page from a run's ``results.json``: the Markdown tables and the figures in ``docs/figures``.

    python docs/probes/diversify_tables.py pretrainlab-runs/diversify/full-seed0/results.json [FIGDIR [PREFIX]]

Prints two Markdown tables — test error per arm (mean ± sample std over seeds, each seed's value, the epochs
fine-tuned, the mean seconds per unit) and the paired differences (``experiment.paired_comparisons``, 95 % t
intervals over the seeds both arms share) — and writes the study's figures as ``diversify_*.png`` into FIGDIR
(default ``docs/figures``) with the experiment's own plotting functions. Nothing is recomputed from the models:
every number is a field of the run's records.
"""
import json
import sys
from pathlib import Path

import numpy as np

from pretrainlab.studies.diversify.experiment import (_diversifying, plot_convergence, plot_error_vs_alpha,
                                                      plot_grad_norms, plot_paired_differences)

ARM = {"mlp": "MLP, inner-product term", "dbn": "DBN, Bhattacharyya prior in pretraining"}
PAIRS = {"none": "— (no penalty)", "different": "different-label pairs (DR)",
         "random": "random pairs (label-blind control)", "same": "same-label pairs (control)"}

results = json.loads(Path(sys.argv[1]).read_text())
figdir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/figures")
prefix = sys.argv[3] if len(sys.argv) > 3 else "diversify_controls"
runs = results["runs"]
print(f"runs: {len(runs)}, complete: {results.get('complete')}\n")

print("| labels | arm | α | pairs | test error (mean ± sample std) | per seed | epochs | s per unit |")
print("|---|---|---|---|---|---|---|---|")
groups = {}
for r in runs:
    pairs = r.get("pairs", "different" if r["alpha"] else "none")
    groups.setdefault((r["n_labels"], r["arm"], r["alpha"], pairs), []).append(r)
order = {"none": 0, "different": 1, "random": 2, "same": 3}
for (n, arm, alpha, pairs), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != "mlp", kv[0][2],
                                                                         order[kv[0][3]])):
    rs = sorted(rs, key=lambda r: r["seed"])
    e = 100 * np.array([r["test_error"] for r in rs])
    spread = f" ± {e.std(ddof=1):.2f}" if len(e) > 1 else ""
    print(f"| {n} | {ARM[arm]} | {alpha:g} | {PAIRS[pairs]} | {e.mean():.2f}{spread} % (n = {len(e)}) | "
          + " / ".join(f"{x:.2f}" for x in e) + " | " + " / ".join(str(r["epochs"]) for r in rs)
          + f" | {np.mean([r['seconds'] for r in rs]):.0f} |")

print("\n| labels | variant | against | Δ test error (points) | 95 % t interval | n | p |")
print("|---|---|---|---|---|---|---|")
for n, by in results["paired"].items():
    for name, cell in by.items():
        for against, d in cell.items():
            ci = "—" if d["n"] < 2 else f"[{100 * d['lo']:+.2f}, {100 * d['hi']:+.2f}]"
            print(f"| {n} | {name} | {against} | {100 * d['mean']:+.2f} | {ci} | {d['n']} | {d['p']:.2g} |")

shown = _diversifying(runs)
figures = {"convergence": plot_convergence(shown), "error_vs_alpha": plot_error_vs_alpha(shown),
           "grad_norms": plot_grad_norms(shown, "ce"), "grad_norms_total": plot_grad_norms(shown, "total"),
           "paired_differences": plot_paired_differences(results["paired"])}
for name, fig in figures.items():
    fig.savefig(figdir / f"{prefix}_{name}.png", dpi=110)
print("\nfigures:", ", ".join(f"{figdir}/{prefix}_{k}.png" for k in figures), file=sys.stderr)
