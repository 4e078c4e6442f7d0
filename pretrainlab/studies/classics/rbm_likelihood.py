"""RBM log-likelihood on binarised MNIST: CD-1, CD-k and PCD compared by exact log Z and by AIS.

Reproduces the setting of Salakhutdinov & Murray 2008 ("On the quantitative analysis of deep belief
networks", Table 2: a 500-hidden RBM trained by CD-25 reaches −86.34 nats on the test set) and of
Tieleman 2008 (PCD). Two model sizes:

* 25 hidden units: log Z is computed exactly by enumerating the 2^25 hidden states, and AIS is checked
  against it;
* 500 hidden units: log Z only by AIS (100 runs; a short schedule while training, the 14 500-β schedule
  of the paper at the end).

Each model is trained with the lab's ``Trainer``/``SGD``/``ContrastiveDivergence``; a checkpoint per model
(and the PCD fantasy particles) lets an interrupted ``--full`` run resume where it stopped: run the same
command with the same ``--out`` again. Finished models are not retrained.

Measured with ``--full --seed 0`` (README, "Results"): test log-likelihood −88.57 nats for PCD (300 epochs) and
−87.33 for CD-k with k rising to 25 (80 epochs), against −153.87 for CD-1; exact −134.95 for 25 hidden units by PCD.
"""
import json
import math
import time

import numpy as np

from ...cd import ContrastiveDivergence
from ...data import load_mnist
from ...likelihood import MAX_EXACT_UNITS, ais_log_partition, exact_log_partition, log_likelihood
from ...optim import SGD, k_schedule, linear_decay, step_change
from ...rbm import BernoulliRBM
from ...train import Trainer
from ...runner.experiments import prepare

# Per mode: data sizes, the models in training order (n_hidden, method, epochs), and the AIS effort.
#   method "CD-1": k = 1; "CD-k": k grows linearly from 1 to k_max over the first ``ramp`` epochs (as
#   Salakhutdinov & Murray 2008 grew k to 25); "PCD": persistent chains (Tieleman 2008), N_CHAINS particles.
#   The large PCD model comes first, so a run cut short by a deadline has the headline number.
SETTINGS = {
    # quick: proves the code path in seconds (its numbers mean nothing)
    "quick": dict(n_train=2000, n_test=500, lr=0.02, k_max=3, ramp=2, monitor_betas=100, final_betas=300,
                  n_runs=20, eval_every=1,
                  models=[(50, "PCD", 3), (10, "PCD", 3), (10, "CD-1", 3), (10, "CD-k", 3), (50, "CD-1", 3),
                          (50, "CD-k", 3)]),
    "default": dict(n_train=None, n_test=None, lr=0.01, k_max=10, ramp=15, monitor_betas=1000, final_betas=14500,
                    n_runs=100, eval_every=5,
                    models=[(500, "PCD", 20), (25, "PCD", 20), (25, "CD-1", 20), (25, "CD-k", 20),
                            (500, "CD-1", 20), (500, "CD-k", 20)]),
    "full": dict(n_train=None, n_test=None, lr=0.01, k_max=25, ramp=60, monitor_betas=1000, final_betas=14500,
                 n_runs=100, eval_every=5,
                 models=[(500, "PCD", 300), (25, "PCD", 60), (25, "CD-1", 60), (25, "CD-k", 60),
                         (500, "CD-1", 50), (500, "CD-k", 80)]),
}
METHODS = ("PCD", "CD-1", "CD-k")
WEIGHT_DECAY, N_CHAINS, BATCH_SIZE = 2e-4, 100, 100


def _train_one(name, n_hidden, method, epochs, data, cfg, out, seed, verbose):
    """Train one RBM (resuming from its checkpoint), evaluate the test log-likelihood, return its record."""
    done_file = out / f"{name}.json"
    if done_file.is_file():
        if verbose:
            print(f"{name}: already finished, reading {done_file}")
        return json.loads(done_file.read_text())
    x_train, x_test = data.x_train, data.x_test
    x_train_eval = x_train[:len(x_test)]  # an equal-sized training sample, to see overfitting
    rbm = BernoulliRBM(784, n_hidden, rng=seed)
    rbm.init_visible_bias(x_train)
    k = k_schedule(cfg["k_max"], cfg["ramp"]) if method == "CD-k" else 1
    cd = ContrastiveDivergence(rbm, k=k, persistent=method == "PCD", n_chains=N_CHAINS, weight_decay=WEIGHT_DECAY)
    exact = n_hidden <= MAX_EXACT_UNITS

    def test_ll(model):
        """AIS (short schedule) test and train log-likelihood every eval_every epochs, NaN in between."""
        epoch = trainer.epoch + 1  # the monitor runs before the trainer counts the epoch as done
        if epoch % cfg["eval_every"] and epoch != epochs:
            test_ll.train = math.nan
            return math.nan
        ais = ais_log_partition(model, n_runs=cfg["n_runs"], n_betas=cfg["monitor_betas"],
                                rng=np.random.default_rng([seed, epoch]), data=x_train)
        test_ll.train = log_likelihood(model, x_train_eval, ais)
        return log_likelihood(model, x_test, ais)

    optimizer = SGD(rbm.params, lr=linear_decay(cfg["lr"], epochs), momentum=step_change(0.5, 0.9, 5))
    trainer = Trainer(rbm, optimizer, step=cd, batch_size=BATCH_SIZE,
                      monitors={"test_ll": test_ll, "train_ll": lambda model: test_ll.train},  # in this order
                      checkpoint=out / f"{name}.ckpt.npz", rng=seed, verbose=verbose)
    test_ll.train = math.nan
    if verbose:
        print(f"== {name}: {n_hidden} hidden units, {method}, {epochs} epochs")
    start = time.perf_counter()
    # the checkpoint carries the PCD fantasy particles too: a resumed run continues exactly
    history = trainer.fit(x_train, epochs=epochs, resume=True)
    train_time = time.perf_counter() - start  # this session's wall time (a resumed run counts only its part)

    start = time.perf_counter()
    ais = ais_log_partition(rbm, n_runs=cfg["n_runs"], n_betas=cfg["final_betas"],
                            rng=np.random.default_rng([seed, 10 ** 6]), data=x_train)
    record = {
        "name": name, "n_hidden": n_hidden, "method": method, "epochs": epochs, "k_final": cd.k,
        "train_epoch_seconds": float(np.sum(history["time"])), "session_seconds": train_time,
        "ais": {"log_z": ais.log_z, "stderr": ais.stderr, "log_z_low": ais.log_z_low, "log_z_high": ais.log_z_high,
                "n_betas": cfg["final_betas"], "n_runs": cfg["n_runs"], "seconds": time.perf_counter() - start},
        "test_ll_ais": log_likelihood(rbm, x_test, ais),
        # a larger log Z gives a lower log-likelihood: the +3σ bound of log Z is the pessimistic one
        "test_ll_ais_low": log_likelihood(rbm, x_test, ais.log_z_high),
        "train_ll_ais": log_likelihood(rbm, x_train_eval, ais),
        "history": history.records,
    }
    if exact:
        start = time.perf_counter()
        log_z = exact_log_partition(rbm)
        record.update(exact_log_z=log_z, exact_seconds=time.perf_counter() - start,
                      test_ll_exact=log_likelihood(rbm, x_test, log_z),
                      train_ll_exact=log_likelihood(rbm, x_train_eval, log_z))
    done_file.write_text(json.dumps(record, indent=1))
    if verbose:
        print(f"{name}: test log-likelihood {record['test_ll_ais']:.2f} nats (AIS, {ais})"
              + (f", exact {record['test_ll_exact']:.2f}" if exact else ""))
    return record


def plot(records):
    """Figure: test log-likelihood per epoch (one panel per model size) and reconstruction error beside it."""
    from matplotlib.figure import Figure

    sizes = sorted({r["n_hidden"] for r in records})
    fig = Figure(figsize=(5 * (len(sizes) + 1), 4), layout="constrained")
    axes = fig.subplots(1, len(sizes) + 1)
    for r in records:
        h = r["history"]
        epoch, ll = np.array(h["epoch"]), np.array(h["test_ll"])
        ok = np.isfinite(ll)
        ax = axes[sizes.index(r["n_hidden"])]
        line, = ax.plot(epoch[ok], ll[ok], "o-", ms=3, label=r["method"])
        ax.plot(epoch[-1], r["test_ll_ais"], "*", ms=12, color=line.get_color())
        if "test_ll_exact" in r:
            ax.axhline(r["test_ll_exact"], color=line.get_color(), ls=":", lw=1)
        axes[-1].plot(epoch, h["loss"], label=f"{r['method']}, {r['n_hidden']} hidden")
    for ax, n in zip(axes, sizes):
        ax.set(title=f"{n} hidden: short AIS per epoch, ★ {records[0]['ais']['n_betas']}-β AIS"
               + (", ┈ exact" if n <= MAX_EXACT_UNITS else ""),
               xlabel="epoch", ylabel="test log-likelihood (nats)")
        ax.legend()
    axes[-1].set(title="reconstruction error (what CD reports)", xlabel="epoch", ylabel="‖v − p(v|h)‖²")
    axes[-1].legend(fontsize=7)
    return fig


def table(records):
    rows = [f"{'model':<12}{'method':<7}{'epochs':>7}{'test LL (AIS)':>15}{'±3σ low':>10}{'exact':>9}"
            f"{'train LL':>10}{'recon':>8}{'train s':>9}"]
    for r in records:
        exact = f"{r['test_ll_exact']:.2f}" if "test_ll_exact" in r else "—"
        rows.append(f"{r['name']:<12}{r['method']:<7}{r['epochs']:>7}{r['test_ll_ais']:>15.2f}"
                    f"{r['test_ll_ais_low']:>10.2f}{exact:>9}{r['train_ll_ais']:>10.2f}"
                    f"{r['history']['loss'][-1]:>8.2f}{r['train_epoch_seconds']:>9.0f}")
    return "\n".join(rows)


def run(mode="default", out=None, seed=0, verbose=True):
    """Train the RBMs of ``SETTINGS[mode]``, evaluate them, write results.json, rbm_likelihood.png; return the results."""
    run_ = prepare("rbm-likelihood", mode, SETTINGS, out, seed)
    cfg, out = run_.cfg, run_.out
    data = load_mnist(binarize="sample", rng=seed, n_train=cfg["n_train"], n_test=cfg["n_test"])
    records = [_train_one(f"h{n_hidden}-{method}", n_hidden, method, epochs, data, cfg, out, seed, verbose)
               for n_hidden, method, epochs in cfg["models"]]
    records.sort(key=lambda r: (r["n_hidden"], METHODS.index(r["method"])))
    results = run_.write_results({
        "protocol": dict(weight_decay=WEIGHT_DECAY, n_chains=N_CHAINS, batch_size=BATCH_SIZE,
                         momentum="0.5, then 0.9 from epoch 5", lr_schedule="linear decay to 0", binarize="sample"),
        "published": {"CD-25, 500 hidden (Salakhutdinov & Murray 2008)": -86.34},
        "models": records})
    plot(records).savefig(out / "rbm_likelihood.png", dpi=110)
    if verbose:
        print(table(records))
    return results
