"""Data loading and the synthetic sets."""
import numpy as np
import pytest

from pretrainlab.data import bars_and_stripes, load_mnist, minibatches, spiked_covariance, standardize, unstandardize


def test_mnist_split_shapes_ranges_and_labels():
    d = load_mnist(n_train=100, n_valid=50, n_test=20)
    assert d.x_train.shape == (100, 784) and d.x_valid.shape == (50, 784) and d.x_test.shape == (20, 784)
    assert d.x_train.dtype == np.float32 and 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert d.y_train.dtype == np.int64 and set(np.unique(d.y_train)) <= set(range(10))


def test_full_mnist_has_the_50k_10k_10k_split():
    d = load_mnist()
    assert (len(d.x_train), len(d.x_valid), len(d.x_test)) == (50000, 10000, 10000)
    assert d.n_classes == 10


@pytest.mark.slow
def test_binarization_threshold_and_sampling():
    grey = load_mnist(n_train=200, n_valid=1, n_test=1)
    thr = load_mnist(n_train=200, n_valid=1, n_test=1, binarize="threshold")
    np.testing.assert_array_equal(thr.x_train, (grey.x_train > 0.5))
    s1 = load_mnist(n_train=200, n_valid=1, n_test=1, binarize="sample", rng=3)
    s2 = load_mnist(n_train=200, n_valid=1, n_test=1, binarize="sample", rng=3)
    np.testing.assert_array_equal(s1.x_train, s2.x_train)
    assert set(np.unique(s1.x_train)) == {0.0, 1.0}
    # sampled pixels average to the grey levels
    assert abs(s1.x_train.mean() - grey.x_train.mean()) < 0.01
    with pytest.raises(ValueError, match="binarize"):
        load_mnist(n_train=1, binarize="yes")


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_mnist(tmp_path / "nothing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read"):
        load_mnist(bad)
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not an MNIST archive"):
        load_mnist(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="n_train"):
        load_mnist(n_train=10 ** 6)


@pytest.mark.parametrize("size, n", [(2, 6), (3, 14), (4, 30)])
def test_bars_and_stripes_are_all_distinct_patterns(size, n):
    x = bars_and_stripes(size)
    assert x.shape == (n, size * size) and len(np.unique(x, axis=0)) == n
    for img in x.reshape(-1, size, size):  # each is constant along rows or along columns
        assert (img == img[:, :1]).all() or (img == img[:1, :]).all()


def test_spiked_covariance_sample_covariance_matches_population():
    s = spiked_covariance(20000, dim=20, n_spikes=2, rng=0)
    assert s.x.shape == (20000, 20) and s.scales.tolist() == [3.0, 5.0]
    emp = np.cov(s.x, rowvar=False)
    assert np.abs(emp - s.covariance).max() < 0.1 * np.abs(s.covariance).max()


def test_minibatches_cover_every_row_once_in_a_seeded_order():
    x, y = np.arange(10)[:, None], np.arange(10)
    batches = list(minibatches(x, y, batch_size=3, rng=1))
    assert [len(b[0]) for b in batches] == [3, 3, 3, 1]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10))
    again = np.concatenate([b[1] for b in minibatches(x, y, batch_size=3, rng=1)])
    np.testing.assert_array_equal(seen, again)
    with pytest.raises(ValueError, match="y must have"):
        list(minibatches(x, y[:5]))


def test_standardize_round_trip():
    x = np.random.default_rng(0).normal(3, 2, size=(100, 4))
    z, mean, std = standardize(x)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(unstandardize(z, mean, std), x)
