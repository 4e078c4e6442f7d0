"""Audit probe 2: is the ~4 % level a property of the features or of the classifier / SGD noise?
(1) logistic regression (sklearn, L-BFGS) on the normalised codes ẑ of the current parameters;
(2) only C, c retrained (encoder frozen) with the protocol's loss at a small rate;
(3) continue the full model 1 epoch at the protocol's rate, valid error every 1000 updates + Polyak average;
(4) same at rate/10."""
import copy, time
import numpy as np
from pretrainlab.data import load_mnist, minibatches
from pretrainlab.studies.drsae.model import DrSAE, normalize_rows
from pretrainlab.studies.drsae.steps import normalize_forward
from pretrainlab.studies.drsae.train import DrSAEProtocol, _optimizer, _projector

t0 = time.time()
a = np.load('/tmp/drsae_audit_ck/discriminative.npz', allow_pickle=False)
updates = int(a['optimizer/updates'])
m = load_mnist()
Xtr, Xva = normalize_rows(m.x_train), normalize_rows(m.x_valid)
ytr, yva = m.y_train, m.y_valid

def fresh(which='param'):
    mod = DrSAE(784, 200, 10, n_steps=2, step_constant=1.25/4, rng=0)
    for k in mod.params:
        mod.params[k][...] = a[f'{which}/{k}']
    return mod

def err(mod, x, y):
    return float(np.mean(mod.predict(x) != y))

mod = fresh()
ztr = normalize_forward(mod.encode(Xtr))[0]; zva = normalize_forward(mod.encode(Xva))[0]
from sklearn.linear_model import LogisticRegression
for Cinv in (1.0, 100.0):
    lr = LogisticRegression(C=Cinv, max_iter=300)
    lr.fit(ztr, ytr)
    print(f'(1) logreg on z_hat, C={Cinv}: train err {1-lr.score(ztr, ytr):.4f}  valid err {1-lr.score(zva, yva):.4f}  '
          f'max row norm {np.linalg.norm(lr.coef_, axis=1).max():.2f}', flush=True)
print('t', round(time.time() - t0, 1), flush=True)

# (2) classifier only, protocol loss (0.2 NLL), C bound 5, rate 0.05 on C (=0.25 lr * 0.2), 3 epochs
C, c = mod.C.astype(np.float64).copy(), mod.c.astype(np.float64).copy()
rng = np.random.default_rng(1)
for ep in range(3):
    for idx in np.array_split(rng.permutation(len(ztr)), len(ztr) // 100):
        zb, yb = ztr[idx], ytr[idx]
        lg = zb @ C.T + c; lg -= lg.max(1, keepdims=True); p = np.exp(lg); p /= p.sum(1, keepdims=True)
        p[np.arange(len(yb)), yb] -= 1; p /= len(yb)
        C -= 0.5 * p.T @ zb; c -= 0.5 * p.sum(0)
        n = np.linalg.norm(C, axis=1, keepdims=True); C *= np.minimum(1, 5 / n)
    e_tr = np.mean((ztr @ C.T + c).argmax(1) != ytr); e_va = np.mean((zva @ C.T + c).argmax(1) != yva)
    print(f'(2) C,c only (bound 5), epoch {ep+1}: train err {e_tr:.4f} valid err {e_va:.4f}', flush=True)
print('t', round(time.time() - t0, 1), flush=True)

def continue_run(factor, label, epochs=1):
    mod = fresh()
    prot = DrSAEProtocol(lr=0.5 * factor)
    opt = _optimizer(mod, prot, start_update=updates)
    proj = _projector(opt, prot.repair_interval)
    avg = {k: np.zeros(v.shape, np.float64) for k, v in mod.params.items()}; navg = 0
    rng = np.random.default_rng(7)
    for ep in range(epochs):
        for i, (xb, yb) in enumerate(minibatches(Xtr, ytr, 10, rng=rng)):
            loss, g = mod.loss_and_grads(xb, yb)
            opt.step(g); proj(mod)
            for k in avg: avg[k] += mod.params[k]
            navg += 1
            if (i + 1) % 1000 == 0:
                print(f'({label}) ep {ep+1} upd {i+1}: lr {opt.current_lr:.4g} valid err {err(mod, Xva, yva):.4f}', flush=True)
    print(f'({label}) end: train err {err(mod, Xtr, ytr):.4f} valid err {err(mod, Xva, yva):.4f}', flush=True)
    am = fresh()
    for k in am.params: am.params[k][...] = avg[k] / navg
    am.project_norms()
    print(f'({label}) Polyak average over {navg} updates: train err {err(am, Xtr, ytr):.4f} valid err {err(am, Xva, yva):.4f}', flush=True)
    print('t', round(time.time() - t0, 1), flush=True)

continue_run(1.0, '3: protocol rate')
continue_run(0.1, '4: rate/10')
