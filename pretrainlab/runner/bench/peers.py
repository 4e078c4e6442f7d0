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


def torch_mlp(x, y, sizes, batch, lr=0.05, momentum=0.5, dropout=None, max_norm=None):
    """The same MLP epoch in PyTorch (torch.nn layers, autograd, torch.optim.SGD).

    dropout : (p_input, p_hidden) or None — ``nn.Dropout`` (inverted, like the lab's) before every layer.
    max_norm : c or None — after each step every unit's incoming weights are renormed to ‖·‖ ≤ c
        (``Tensor.renorm_`` over the rows of ``nn.Linear``'s (out, in) weight).
    """
    torch = _torch()
    torch.manual_seed(0)
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if dropout:
            layers.append(torch.nn.Dropout(dropout[0] if l == 0 else dropout[1]))
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Sigmoid()]
    net = torch.nn.Sequential(*layers[:-1])
    net.train()
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)

    def run():
        for idx in torch.randperm(len(xs)).split(batch):
            loss = torch.nn.functional.cross_entropy(net(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if max_norm is not None:
                with torch.no_grad():
                    for m in linear:
                        m.weight.renorm_(2, 0, max_norm)
    return run, run


def torch_drsae(model, batches, lr):
    """DrSAE training steps in PyTorch, from the lab's ``model``'s parameters (a copy): the unrolled network
    written forward only — z⁰ = 0, z^t = relu(x Eᵀ + z^{t−1} Sᵀ − b) for T steps, ½‖x − D z^T‖² + λ‖z^T‖₁ +
    w · cross-entropy(C ẑ + c), ẑ = z^T/√(‖z^T‖² + ε²), batch means — with its gradients by autograd where
    the lab back-propagates through time by hand; then the same plain SGD with the per-matrix rates
    (``model.lr_scale()``) and the same norm projection (``model.project_norms``'s bounds)."""
    torch = _torch()
    from ...studies.drsae.steps import NORM_EPS

    F = torch.nn.functional
    P = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    rate = {k: lr / d for k, d in model.lr_scale().items()}
    lam, w, T, h = model.sparsity_weight, model.classification_weight, model.n_steps, model.n_hidden
    bounds = (("D", 0, model.max_norm_D), ("E", 1, model.max_norm_E), ("C", 1, model.max_norm_C))
    data = [(torch.from_numpy(np.ascontiguousarray(xb)), torch.from_numpy(yb.astype(np.int64))) for xb, yb in batches]

    def run():
        for xb, yb in data:
            n = len(xb)
            x_proj = xb @ P["E"].T
            z = torch.zeros(n, h)
            for _ in range(T):
                z = torch.relu(x_proj + z @ P["S"].T - P["b"])
            loss = 0.5 * ((z @ P["D"].T - xb) ** 2).sum() / n + lam * z.abs().sum() / n
            z_hat = z / torch.sqrt((z * z).sum(dim=1, keepdim=True) + NORM_EPS ** 2)
            loss = loss + w * F.cross_entropy(z_hat @ P["C"].T + P["c"], yb)
            grads = torch.autograd.grad(loss, list(P.values()))
            with torch.no_grad():
                for (k, p), g in zip(P.items(), grads):
                    p -= rate[k] * g
                for k, dim, bound in bounds:
                    W = P[k]
                    W *= torch.clamp(bound / W.norm(dim=dim, keepdim=True), max=1.0)
        if not all(bool(torch.isfinite(p).all()) for p in P.values()):
            raise RuntimeError("torch_drsae: the parameters diverged; the timing would be meaningless")
    run.params = P  # the tensors it trains (tests compare one step with the lab's)
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
