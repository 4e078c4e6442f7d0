"""Audit probe 5: (a) relative size of one update per parameter group at the protocol rate;
(b) 3 epochs at rate/10 from the current parameters: is the de-noised error still falling (under-trained)?"""
import time
import numpy as np
exec(open(__file__.replace('probe4.py', 'probe3.py').replace('probe5.py', 'probe3.py')).read().split("def run(")[0])
Xva, yva = normalize_rows(m.x_valid), m.y_valid

mod = DrSAE(784, 200, 10, n_steps=2, step_constant=1.25/4, rng=0)
for k in mod.params: mod.params[k][...] = a[f'param/{k}']
opt = _optimizer(mod, DrSAEProtocol(lr=0.5), start_update=updates)
rel = {k: [] for k in mod.params}
rng = np.random.default_rng(3)
for i, (xb, yb) in enumerate(minibatches(Xtr, ytr, 10, rng=rng)):
    if i == 300: break
    _, g = mod.loss_and_grads(xb, yb)
    lr = opt.current_lr
    for k in mod.params:
        rel[k].append(lr * opt.lr_scale.get(k, 1) * np.linalg.norm(g[k]) / np.linalg.norm(mod.params[k]))
    opt.step(g)
print('(a) median ‖Δθ‖/‖θ‖ per update at the protocol rate:', {k: f'{np.median(v):.2e}' for k, v in rel.items()})
z = mod.encode(Xva[:2000]); pre = Xva[:2000] @ mod.E.T - mod.b
print('    |E x| per unit (active) median %.4f; |b| median %.4f' % (np.median(np.abs(Xva[:2000] @ mod.E.T)[z > 0]), np.median(np.abs(mod.b))))

mod = DrSAE(784, 200, 10, n_steps=2, step_constant=1.25/4, rng=0)
for k in mod.params: mod.params[k][...] = a[f'param/{k}']
opt = _optimizer(mod, DrSAEProtocol(lr=0.05), start_update=updates)
proj = _projector(opt, 5)
rng = np.random.default_rng(5)
for ep in range(3):
    tot = 0
    for xb, yb in minibatches(Xtr, ytr, 10, rng=rng):
        l, g = mod.loss_and_grads(xb, yb); opt.step(g); proj(mod); tot += l
    print(f'(b) rate/10 epoch {ep+1}: mean loss {tot/5000:.4f} train err {np.mean(mod.predict(Xtr) != ytr):.4f} '
          f'valid err {np.mean(mod.predict(Xva) != yva):.4f}', flush=True)
print('t', round(time.time() - t0, 1))
