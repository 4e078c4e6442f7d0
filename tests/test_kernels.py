"""Every Numba kernel equals the NumPy code it replaces (float32 tolerance), edge sizes included.

Sampling kernels get the uniforms the NumPy path would draw, so both paths must produce the same binary
states; a single flipped state would change the gradients by far more than the tolerance.
"""
import subprocess
import sys

import numpy as np
import pytest

from pretrainlab import SGD, BernoulliRBM, ContrastiveDivergence, kernels
from pretrainlab.kernels import dense as dense_kernels
from pretrainlab.kernels import rbm as rbm_kernels

ATOL = 1e-5  # float32: sums of a few hundred terms of size ≤ 1


def make_rbm(n_visible, n_hidden, seed=1):
    rbm = BernoulliRBM(n_visible, n_hidden, rng=seed, init_scale=0.5)
    rbm.params["b_vis"][:] = np.linspace(-1, 1, n_visible)
    rbm.params["b_hid"][:] = np.linspace(1, -1, n_hidden)
    return rbm


def binary_data(n, n_visible, seed=5):
    return (np.random.default_rng(seed).random((n, n_visible)) < 0.3).astype(np.float32)


def test_sample_hiddens_equals_sample_h_given_v():
    rbm, v = make_rbm(13, 6), binary_data(4, 13)
    ph_ref, h_ref = rbm.sample_h_given_v(v)
    rbm_k = make_rbm(13, 6)  # same seed: same weights, same uniforms
    ph, h = np.empty((2, 4, 6), np.float32)
    rbm_kernels.sample_hiddens(v, rbm_k.W, rbm_k.b_hid, rbm_k.rng.random((4, 6), dtype=np.float32), ph, h)
    np.testing.assert_allclose(ph, ph_ref, atol=ATOL)
    np.testing.assert_array_equal(h, h_ref)


@pytest.mark.parametrize("n, n_hidden, k", [(1, 1, 1), (3, 5, 1), (4, 5, 3)])
def test_gibbs_chain_equals_gibbs_vhv(n, n_hidden, k):
    v = binary_data(n, 11)
    rbm = make_rbm(11, n_hidden)
    vk_ref, phk_ref = rbm.gibbs_vhv(v, k)
    rbm = make_rbm(11, n_hidden)  # same seed: the same uniforms, drawn in the same order
    rng, f32 = rbm.rng, np.float32
    ph, h = np.empty((2, n, n_hidden), f32)
    rbm_kernels.sample_hiddens(v, rbm.W, rbm.b_hid, rng.random((n, n_hidden), dtype=f32), ph, h)
    u_v, u_h = np.empty((k, n, 11), f32), np.empty((k - 1, n, n_hidden), f32)
    for s in range(k):
        rng.random(dtype=f32, out=u_v[s])
        if s < k - 1:
            rng.random(dtype=f32, out=u_h[s])
    pv_first, vk = np.empty((2, n, 11), f32)
    phk = np.empty((n, n_hidden), f32)
    rbm_kernels.gibbs_chain(h, rbm.W, rbm.b_vis, rbm.b_hid, u_v, u_h, pv_first, vk, phk)
    np.testing.assert_array_equal(vk, vk_ref)
    np.testing.assert_allclose(phk, phk_ref, atol=ATOL)


def cd_run(backend, n, n_hidden, k, persistent, n_chains, sparsity_weight, steps=3):
    rbm = make_rbm(17, n_hidden)
    cd = ContrastiveDivergence(rbm, k=k, persistent=persistent, n_chains=n_chains, sparsity_weight=sparsity_weight)
    v = binary_data(n, 17)
    with kernels.backend(backend):
        out = [cd(v) for _ in range(steps)]
    return out, cd.chains, rbm.rng.random()  # the last draw proves both consumed the same number of uniforms


@pytest.mark.parametrize("n, n_hidden, k, persistent, n_chains, sparsity_weight", [
    (1, 1, 1, False, None, 0.0),    # edge sizes: one sample, one hidden unit
    (10, 7, 1, False, None, 0.0),
    (6, 4, 3, False, None, 0.5),    # CD-3 with the sparsity penalty
    (5, 7, 2, True, None, 0.0),     # PCD, chains = batch
    (5, 3, 1, True, 9, 0.0),        # PCD with more chains than samples
])
def test_cd_kernel_path_equals_numpy_path(n, n_hidden, k, persistent, n_chains, sparsity_weight):
    ref, chains_ref, next_ref = cd_run("numpy", n, n_hidden, k, persistent, n_chains, sparsity_weight)
    got, chains, next_got = cd_run("numba", n, n_hidden, k, persistent, n_chains, sparsity_weight)
    assert next_got == next_ref
    for (err_ref, g_ref), (err, g) in zip(ref, got):
        assert err == pytest.approx(err_ref, rel=1e-5)
        assert set(g) == set(g_ref)
        for name in g_ref:
            assert g[name].dtype == g_ref[name].dtype
            np.testing.assert_allclose(g[name], g_ref[name], atol=ATOL, err_msg=name)
    if persistent:
        np.testing.assert_array_equal(chains, chains_ref)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_kernel_equals_numpy_update(momentum):
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((7, 3)).astype(np.float32), "b": rng.standard_normal(3).astype(np.float32)}
    grads = [{k: rng.standard_normal(p.shape).astype(np.float32) for k, p in params.items()} for _ in range(3)]
    results = {}
    for backend in ("numpy", "numba"):
        p = {k: v.copy() for k, v in params.items()}
        opt = SGD(p, lr=0.1, momentum=momentum, lr_scale={"b": 0.5})
        with kernels.backend(backend):
            for g in grads:
                opt.step(g)
        results[backend] = p, opt.velocity
    for name in params:
        np.testing.assert_allclose(results["numba"][0][name], results["numpy"][0][name], atol=1e-6)
        np.testing.assert_allclose(results["numba"][1][name], results["numpy"][1][name], atol=1e-6)


def test_auto_backend_uses_kernels_only_for_small_batches(monkeypatch):
    calls = []
    cd_step = rbm_kernels.cd_step
    monkeypatch.setattr(rbm_kernels, "cd_step", lambda v0, *args: calls.append(len(v0)) or cd_step(v0, *args))
    rbm = make_rbm(5, 2)
    cd = ContrastiveDivergence(rbm)
    with kernels.backend("auto"):
        cd(binary_data(kernels.CD_KERNEL_MAX_BATCH + 1, 5))
        assert calls == []
        cd(binary_data(2, 5))
        assert calls == [2]


def test_auto_backend_runs_the_fused_sgd_update_only_for_small_batches(monkeypatch):
    """The reading path: at batch 100 (or when the batch is not given) a student steps through the NumPy
    update; the kernel runs under "auto" only up to SGD_KERNEL_MAX_BATCH rows, and always under "numba"."""
    calls = []
    sgd_step = dense_kernels.sgd_step
    monkeypatch.setattr(dense_kernels, "sgd_step", lambda *args: calls.append(1) or sgd_step(*args))
    params = {"W": np.zeros((6, 4), np.float32)}
    opt = SGD(params, lr=0.1, momentum=0.5)
    grads = {"W": np.ones((6, 4), np.float32)}
    with kernels.backend("auto"):
        opt.step(grads)
        opt.step(grads, n_rows=kernels.SGD_KERNEL_MAX_BATCH + 1)
        assert calls == []
        opt.step(grads, n_rows=kernels.SGD_KERNEL_MAX_BATCH)
        assert calls == [1]
    with kernels.backend("numba"):
        opt.step(grads)
        assert calls == [1, 1]
    with kernels.backend("numpy"):
        opt.step(grads, n_rows=1)
        assert calls == [1, 1]


def test_backend_switch_validates_and_restores():
    before = kernels.get_backend()
    with pytest.raises(ValueError, match="name"):
        kernels.set_backend("cuda")
    with kernels.backend("numpy"):
        assert kernels.get_backend() == "numpy" and not kernels.use_kernel(1, 100)
    assert kernels.get_backend() == before


def test_kernels_are_compiled_lazily():
    """Importing the package and the kernels package loads no Numba; the first step on a kernel path does."""
    code = ("import sys; import pretrainlab, pretrainlab.kernels as k; print('numba' in sys.modules); "
            "import numpy as np; x = {'W': np.ones(3, np.float32)}; opt = pretrainlab.SGD(x, lr=0.1); "
            "k.set_backend('numba'); opt.step({'W': np.ones(3, np.float32)}); print('numba' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


# ---------------------------------------------------------------------------------------------- MLP
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("sizes, n", [((12, 7, 5, 3), 4), ((6, 1, 2), 1)])  # edge: batch 1, one hidden unit
def test_mlp_kernel_path_equals_numpy_path(activation, sizes, n):
    from pretrainlab.mlp import MLP

    rng = np.random.default_rng(2)
    x = (rng.random((n, sizes[0])) * (rng.random((n, sizes[0])) < 0.5)).astype(np.float32)  # some zero inputs
    y = rng.integers(0, sizes[-1], n)
    mlp = MLP(sizes, rng=0, activation=activation, weight_decay=1e-3)
    with kernels.backend("numpy"):
        loss_ref, grads_ref = mlp.loss_and_grads(x, y)
    with kernels.backend("numba"):
        loss, grads = mlp.loss_and_grads(x, y)
    assert loss == pytest.approx(loss_ref, rel=1e-5)
    assert list(grads) == list(grads_ref)
    for name in grads_ref:
        np.testing.assert_allclose(grads[name], grads_ref[name], atol=ATOL, err_msg=name)


# ---------------------------------------------------------------------------------------------- AIS
@pytest.mark.parametrize("n_visible, n_hidden, n_runs", [(12, 6, 7), (5, 1, 1)])  # edge: one run, one hidden unit
def test_ais_kernel_path_equals_numpy_path(n_visible, n_hidden, n_runs):
    from pretrainlab.likelihood import ais_log_partition

    rbm = make_rbm(n_visible, n_hidden)
    data = binary_data(30, n_visible)
    results = {}
    for backend in ("numpy", "numba"):
        with kernels.backend(backend):
            results[backend] = ais_log_partition(rbm, n_runs=n_runs, n_betas=200, rng=3, data=data)
    np.testing.assert_allclose(results["numba"].log_weights, results["numpy"].log_weights, rtol=1e-6, atol=1e-6)
    assert results["numba"].log_z == pytest.approx(results["numpy"].log_z, abs=1e-6)


# ---------------------------------------------------------------------------------------------- entry checks
def test_kernel_adapters_refuse_arrays_of_the_wrong_shape_dtype_or_layout():
    """A compiled loop trusts its bounds: every adapter checks what it is handed (a short gradient would be
    read past its end)."""
    p, v = np.zeros((400, 300), np.float32), np.zeros((400, 300), np.float32)
    before = p.copy()
    with pytest.raises(ValueError, match="grad must have shape"):
        dense_kernels.sgd_step(p, v, np.ones((4, 3), np.float32), 0.1, 0.0)
    with pytest.raises(TypeError, match="grad must have dtype float32"):
        dense_kernels.sgd_step(p, v, np.ones((400, 300)), 0.1, 0.0)
    with pytest.raises(ValueError, match="velocity must be C-contiguous"):
        dense_kernels.sgd_step(p, np.zeros((300, 400), np.float32).T, np.ones_like(p), 0.1, 0.0)
    np.testing.assert_array_equal(p, before)
    rbm = make_rbm(7, 3)
    with pytest.raises(ValueError, match="v must have 7 columns"):
        rbm_kernels.cd_step(np.zeros((2, 6), np.float32), rbm.W, rbm.b_vis, rbm.b_hid, rbm.rng, 1)
    with pytest.raises(ValueError, match="b_hid must have shape"):
        rbm_kernels.cd_step(np.zeros((2, 7), np.float32), rbm.W, rbm.b_vis, rbm.b_vis, rbm.rng, 1)


def test_sgd_refuses_a_gradient_of_the_wrong_shape_on_both_backends():
    for backend in ("numpy", "numba"):
        params = {"W": np.zeros((50, 40), np.float32)}
        opt = SGD(params, lr=0.1)
        with kernels.backend(backend), pytest.raises(ValueError, match="grads\\['W'\\] must have shape"):
            opt.step({"W": np.ones(7, np.float32)})
        assert not params["W"].any()
