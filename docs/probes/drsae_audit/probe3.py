"""Audit probe 3: which parameter group's SGD noise makes the validation error swing?
From the current checkpoint, 3000 updates with ONE group at the protocol's rate and the others at rate/10;
validation error every 300 updates; report mean and std. Baselines: all at full rate, all at rate/10."""
import time
import numpy as np
from pretrainlab.data import load_mnist, minibatches
from pretrainlab.studies.drsae.model import DrSAE, normalize_rows
from pretrainlab.studies.drsae.train import DrSAEProtocol, _optimizer, _projector

t0 = time.time()
a = np.load('/tmp/drsae_audit_ck/discriminative.npz', allow_pickle=False)
updates = int(a['optimizer/updates'])
m = load_mnist()
Xtr, Xva = normalize_rows(m.x_train), normalize_rows(m.x_valid[:5000])
ytr, yva = m.y_train, m.y_valid[:5000]

def run(full_groups, label, n=3000, every=300, interval=5):
    """``interval``: D's and E's bounds every ``interval``-th update (the protocol's 5; probe4 tries 1)."""
    mod = DrSAE(784, 200, 10, n_steps=2, step_constant=1.25/4, rng=0)
    for k in mod.params:
        mod.params[k][...] = a[f'param/{k}']
    opt = _optimizer(mod, DrSAEProtocol(lr=0.5), start_update=updates)
    for k in opt.lr_scale:
        if k not in full_groups:
            opt.lr_scale[k] *= 0.1
    proj = _projector(opt, interval)
    errs, enorm = [], []
    rng = np.random.default_rng(11)
    for i, (xb, yb) in enumerate(minibatches(Xtr, ytr, 10, rng=rng)):
        if i == n: break
        _, g = mod.loss_and_grads(xb, yb); opt.step(g); proj(mod)
        if i < 200: enorm.append(np.linalg.norm(mod.E, axis=1).max())
        if (i + 1) % every == 0:
            errs.append(float(np.mean(mod.predict(Xva) != yva)))
    e = np.array(errs)
    print(f'{label:28s} valid err (5k) every {every} upd: mean {100*e.mean():.2f} %  std {100*e.std():.2f}  '
          f'min {100*e.min():.2f} max {100*e.max():.2f}   [{", ".join(f"{100*v:.1f}" for v in e)}]'
          f'   max‖E_i‖ over the first 200 updates {max(enorm):.4f} (bound {mod.max_norm_E:.4f})', flush=True)

run(set('ESbDCc'), 'all at protocol rate')
run(set(), 'all at rate/10')
run({'C', 'c'}, 'only C,c at full rate')
run({'S'}, 'only S at full rate')
run({'E', 'b'}, 'only E,b at full rate')
run({'D'}, 'only D at full rate')
print('t', round(time.time() - t0, 1))
