"""Audit probe 4: E or b?  And does re-imposing E's bound after every update (not every 5th) change the noise?"""
import time
import numpy as np
exec(open(__file__.replace('probe4.py', 'probe3.py').replace('probe5.py', 'probe3.py')).read().split("run(set('ESbDCc')")[0])

def run2(full_groups, label, interval=5, n=3000, every=300):
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
    print(f'{label:34s} mean {100*e.mean():.2f} %  std {100*e.std():.2f}  min {100*e.min():.2f} max {100*e.max():.2f}  '
          f'max‖E_i‖ over first 200 upd {max(enorm):.4f} (bound {mod.max_norm_E:.4f})', flush=True)

run2({'E'}, 'only E at full rate')
run2({'b'}, 'only b at full rate')
run2(set('ESbDCc'), 'all full, E/D bound every update', interval=1)
print('t', round(time.time() - t0, 1))
