"""Audit probe: train/valid error and loss terms of the h200-T2-c4 checkpoint (copied to /tmp)."""
import json, sys, time
import numpy as np
from pretrainlab.data import load_mnist
from pretrainlab.studies.drsae.model import DrSAE, normalize_rows
from pretrainlab.studies.drsae.steps import normalize_forward
from pretrainlab.layers import softmax

t0 = time.time()
a = np.load('/tmp/drsae_audit_ck/discriminative.npz', allow_pickle=False)
meta = json.loads(str(a['__meta__'])); print('meta', meta)
tr = json.loads(str(a['__trainer__']))
print('trainer keys', list(tr.keys()) if isinstance(tr, dict) else type(tr))
print('updates', int(a['optimizer/updates']))
m = load_mnist()
X = {k: normalize_rows(getattr(m, 'x_' + k)) for k in ('train', 'valid', 'test')}
Y = {k: getattr(m, 'y_' + k) for k in ('train', 'valid', 'test')}
cfg = meta.get('config', meta)
model = DrSAE(784, 200, 10, n_steps=2, step_constant=1.25/4, rng=0)
print('model cfg', model.config())

def terms(model, x, y):
    z = model.encode(x)
    rec = 0.5 * np.sum((x - z @ model.D.T) ** 2, axis=1)
    l1 = model.sparsity_weight * np.abs(z).sum(1)
    zh, _ = normalize_forward(z)
    logits = zh @ model.C.T + model.c
    p = softmax(logits)
    nll = -np.log(np.maximum(p[np.arange(len(y)), y], 1e-30))
    err = (logits.argmax(1) != y)
    nz = np.linalg.norm(z, axis=1)
    return dict(err=err.mean(), rec=rec.mean(), l1=l1.mean(), nll=nll.mean(), wnll=0.2 * nll.mean(),
                total=(rec + l1 + 0.2 * nll).mean(), active=(z > 0).sum(1).mean(), znorm_med=np.median(nz),
                znorm_p5=np.percentile(nz, 5), zero_codes=int((nz == 0).sum()), ptop=p.max(1).mean(),
                logit_range=float(np.median(logits.max(1) - logits.min(1))))

for which in ('param', 'best'):
    for k in model.params:
        model.params[k][...] = a[f'{which}/{k}']
    print(f'== {which}')
    for split in ('train', 'valid', 'test'):
        t = terms(model, X[split], Y[split])
        print(split, {k: (round(float(v), 5) if not isinstance(v, int) else v) for k, v in t.items()})
    ua = model.unit_analysis()
    print('C row norms', np.round(np.linalg.norm(model.C, axis=1), 4))
    print('c bias', np.round(model.c, 3))
    print('E row norms: min %.4f med %.4f max %.4f (bound %.4f), #at bound(>0.999b) %d' % (
        ua['encoder_norm'].min(), np.median(ua['encoder_norm']), ua['encoder_norm'].max(), model.max_norm_E,
        (ua['encoder_norm'] > 0.999 * model.max_norm_E).sum()))
    print('D col norms: min %.4f med %.4f max %.4f, #>0.999: %d' % (ua['decoder_norm'].min(),
          np.median(ua['decoder_norm']), ua['decoder_norm'].max(), (ua['decoder_norm'] > 0.999).sum()))
    print('b: min %.4g med %.4g max %.4g' % (model.b.min(), np.median(model.b), model.b.max()))
    print('|S-I| rows med %.4f max %.4f; diag S med %.4f' % (np.median(ua['recurrent_norm']), ua['recurrent_norm'].max(),
          np.median(np.diag(model.S))))
    print('C col norms (per unit): med %.4f max %.4f' % (np.median(ua['classifier_norm']), ua['classifier_norm'].max()))
    print('angles: part(<0.5) %d cat(>0.7) %d' % ((ua['angle'] < 0.5).sum(), (ua['angle'] > 0.7).sum()))
print('elapsed', time.time() - t0)
