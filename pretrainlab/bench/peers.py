"""The peers ``pretrainlab bench`` times beside the lab: plain NumPy as a student would write it, PyTorch,
scikit-learn.

Each builder returns ``(run, warm_up)`` like ``workloads.build_*`` and is called only inside that peer's own
worker process: PyTorch or scikit-learn is imported there, never where the lab or the GEMM reference is timed.
A library that is not installed raises ImportError, which the worker reports as "absent".

The NumPy peers are the loops a student writes from the equations: fresh arrays for every intermediate, no
preallocated buffers, no kernels. They keep the lab's dtype (float32 data and weights, Python floats as
scalars) so that the comparison is of code, not of precision; a student who writes ``0.01 *
rng.standard_normal(...)`` gets float64 weights and products about twice as slow.
"""
import math

import numpy as np

#: BLAS/OpenMP threads of this worker; the worker sets it before building (PyTorch reads it).
THREADS = 1


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------------------------------- plain NumPy
def numpy_cd1(x, batch, n_hidden, shuffle, lr=0.05, momentum=0.5):
    """CD-1 with momentum SGD over minibatches of ``x``, one epoch per round, as a student writes it."""
    rng = np.random.default_rng(0)
    n_visible = x.shape[1]
    W = (0.01 * rng.standard_normal((n_visible, n_hidden))).astype(np.float32)
    b_vis, b_hid = np.zeros(n_visible, np.float32), np.zeros(n_hidden, np.float32)
    vel = {"W": np.zeros_like(W), "b_vis": np.zeros_like(b_vis), "b_hid": np.zeros_like(b_hid)}

    def epoch():
        order = rng.permutation(len(x)) if shuffle else None
        for start in range(0, len(x), batch):
            v0 = x[order[start:start + batch]] if shuffle else x[start:start + batch]
            ph0 = _sigmoid(v0 @ W + b_hid)
            h0 = (rng.random(ph0.shape) < ph0).astype(np.float32)
            v1 = (rng.random(v0.shape) < _sigmoid(h0 @ W.T + b_vis)).astype(np.float32)
            ph1 = _sigmoid(v1 @ W + b_hid)
            n = len(v0)
            grads = {"W": (v0.T @ ph0 - v1.T @ ph1) / n, "b_vis": (v0 - v1).mean(0), "b_hid": (ph0 - ph1).mean(0)}
            for name, p in (("W", W), ("b_vis", b_vis), ("b_hid", b_hid)):
                vel[name] = momentum * vel[name] + lr * grads[name]
                p += vel[name]
    return epoch, epoch


def numpy_mlp(x, y, sizes, batch, lr=0.05, momentum=0.5):
    """One epoch of a sigmoid MLP with a softmax output, backpropagation and momentum SGD, as a student writes it."""
    rng = np.random.default_rng(0)
    Ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        r = math.sqrt(6 / (n_in + n_out))
        Ws.append(rng.uniform(-r, r, (n_in, n_out)).astype(np.float32))
        bs.append(np.zeros(n_out, np.float32))
    vWs, vbs = [np.zeros_like(W) for W in Ws], [np.zeros_like(b) for b in bs]
    L = len(Ws)

    def epoch():
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            xb, yb = x[idx], y[idx]
            hs = [xb]
            for W, b in zip(Ws[:-1], bs[:-1]):
                hs.append(_sigmoid(hs[-1] @ W + b))
            logits = hs[-1] @ Ws[-1] + bs[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            delta = p
            delta[np.arange(len(yb)), yb] -= 1
            delta /= len(yb)
            for l in range(L - 1, -1, -1):
                gW, gb = hs[l].T @ delta, delta.sum(axis=0)
                if l > 0:
                    delta = (delta @ Ws[l].T) * hs[l] * (1 - hs[l])
                vWs[l] = momentum * vWs[l] - lr * gW
                vbs[l] = momentum * vbs[l] - lr * gb
                Ws[l] += vWs[l]
                bs[l] += vbs[l]
    return epoch, epoch


def numpy_online_ae(x, W0, lr):
    """Online SGD of the tied ReLU autoencoder, one sample per step, as a student writes it."""
    D = x.shape[1]
    sqrt_d = math.sqrt(D)

    def run():
        W, b = W0.copy(), np.zeros(W0.shape[1], np.float32)
        for xt in x:
            lam = (xt @ W + b) / sqrt_d
            h = np.maximum(lam, 0)
            err = W @ h - xt
            dlam = (err @ W) / D * (lam > 0)
            W -= lr * (np.outer(xt, dlam) / sqrt_d + np.outer(err, h) / D)  # encoder + decoder use of W
            b -= lr * dlam / sqrt_d
        if not np.all(np.isfinite(W)):
            raise RuntimeError("numpy_online_ae: the weights diverged; the timing would be meaningless")
    return run, run


def numpy_ais(W, b_vis, b_hid, data, n_runs, n_betas):
    """AIS log-weights of a Bernoulli RBM from a base-rate model (linear β schedule), as a student writes it."""
    p = np.clip(data.mean(axis=0), 1e-3, 1 - 1e-3)
    a = np.log(p / (1 - p)).astype(np.float32)  # the base model's visible biases
    b_vis = b_vis.astype(np.float32)

    def log_p_star(v, vW, beta):  # unnormalised log-probability of the intermediate model at β
        return (1 - beta) * (v @ a) + beta * (v @ b_vis) + np.logaddexp(0, beta * (vW + b_hid)).sum(axis=1)

    def run(n=n_betas):
        betas = np.linspace(0, 1, n).tolist()
        rng = np.random.default_rng(0)
        v = (rng.random((n_runs, len(a))) < _sigmoid(a)).astype(np.float32)
        log_w = np.zeros(n_runs)
        for k in range(1, n):
            vW = v @ W
            log_w += log_p_star(v, vW, betas[k]) - log_p_star(v, vW, betas[k - 1])
            if k < n - 1:
                h = (rng.random((n_runs, len(b_hid))) < _sigmoid(betas[k] * (vW + b_hid))).astype(np.float32)
                pv = _sigmoid((1 - betas[k]) * a + betas[k] * (h @ W.T + b_vis))
                v = (rng.random(pv.shape) < pv).astype(np.float32)
        return log_w
    return run, lambda: run(10)


# ------------------------------------------------------------------------------------------- PyTorch
def _torch():
    """PyTorch (raises ImportError where it is not installed), on ``THREADS`` threads like NumPy's BLAS."""
    import torch

    torch.set_num_threads(THREADS)
    return torch


def torch_cd1(x, batch, n_hidden):
    """CD-1 with momentum SGD written in PyTorch (CPU, float32) as a user of it would, one epoch per round."""
    torch = _torch()
    n_visible = x.shape[1]
    gen = torch.Generator().manual_seed(0)
    W = 0.01 * torch.randn(n_visible, n_hidden, generator=gen)
    b_vis, b_hid = torch.zeros(n_visible), torch.zeros(n_hidden)
    params = [W, b_vis, b_hid]
    velocity = [torch.zeros_like(p) for p in params]
    data = [torch.from_numpy(np.ascontiguousarray(x[i:i + batch])) for i in range(0, len(x), batch)]

    def run():
        for v0 in data:
            ph0 = torch.sigmoid(v0 @ W + b_hid)
            h0 = torch.bernoulli(ph0, generator=gen)
            v1 = torch.bernoulli(torch.sigmoid(h0 @ W.T + b_vis), generator=gen)
            ph1 = torch.sigmoid(v1 @ W + b_hid)
            n = len(v0)
            grads = [(v1.T @ ph1 - v0.T @ ph0) / n, (v1 - v0).mean(0), (ph1 - ph0).mean(0)]
            for p, u, g in zip(params, velocity, grads):
                u.mul_(0.5).add_(g, alpha=-0.05)
                p.add_(u)
    return run, run


def torch_mlp(x, y, sizes, batch):
    """The same MLP epoch in PyTorch (torch.nn layers, autograd, torch.optim.SGD)."""
    torch = _torch()
    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.5)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def run():
        for idx in torch.randperm(len(xs)).split(batch):
            loss = torch.nn.functional.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return run, run


def torch_online_ae(x, W0, lr):
    """The same online SGD in PyTorch with autograd, one sample per step."""
    torch = _torch()
    data = torch.from_numpy(x)
    sqrt_d, D = math.sqrt(x.shape[1]), x.shape[1]

    def run():
        W = torch.tensor(W0, requires_grad=True)
        b = torch.zeros(W0.shape[1], requires_grad=True)
        for xt in data:
            h = torch.relu((xt @ W + b) / sqrt_d)
            loss = ((W @ h - xt) ** 2).sum() / (2 * D)
            loss.backward()
            with torch.no_grad():
                W -= lr * W.grad
                b -= lr * b.grad
                W.grad = None
                b.grad = None
    return run, run


# ------------------------------------------------------------------------------------------- scikit-learn
def sklearn_rbm(x, batch, n_hidden):
    """``sklearn.neural_network.BernoulliRBM``, one ``partial_fit`` call per minibatch of ``batch`` rows.

    Not the same algorithm as the lab's CD-1: scikit-learn runs persistent CD (Tieleman 2008) without
    momentum. Each step still takes the same five matrix products, so its time is comparable.
    """
    from sklearn.neural_network import BernoulliRBM

    rbm = BernoulliRBM(n_components=n_hidden, learning_rate=0.05, batch_size=batch, n_iter=1, random_state=0)
    batches = [x[i:i + batch] for i in range(0, len(x), batch)]

    def run():
        for xb in batches:
            rbm.partial_fit(xb)
    return run, run
