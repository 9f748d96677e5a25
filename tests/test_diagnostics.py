"""The latent-geometry diagnostics of skvaecf.diagnostics."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from skvaecf import AnchoredVAERecommender, MultVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.diagnostics import (active_units, mask_stability, posterior_moments,
                                 wasserstein_distances)

LATENT_DIM = 6


@pytest.fixture(scope="module")
def users():
    return make_interactions(150, 40, random_state=0).X


@pytest.fixture(scope="module")
def model(users):
    return MultVAERecommender(hidden_dims=(16,), latent_dim=LATENT_DIM, epochs=3,
                              anneal_steps=0, batch_size=50, device="cpu",
                              random_state=0).fit(users)


def test_unmasked_moments_are_the_prediction_time_posterior(model, users):
    mean, variance = posterior_moments(model, users)
    expected_mean, expected_variance = model.encode(users)
    np.testing.assert_array_equal(mean, expected_mean)
    np.testing.assert_array_equal(variance, expected_variance)


def test_masked_moments_differ_from_the_clean_ones_and_follow_the_seed(model, users):
    clean, _ = posterior_moments(model, users)
    masked, _ = posterior_moments(model, users, dropout=0.5, random_state=1)
    again, _ = posterior_moments(model, users, dropout=0.5, random_state=1)
    other, _ = posterior_moments(model, users, dropout=0.5, random_state=2)

    assert not np.allclose(masked, clean)
    np.testing.assert_array_equal(masked, again)
    assert not np.allclose(masked, other)


def test_moments_work_for_the_anchored_model(users):
    anchored = AnchoredVAERecommender(hidden_dims=(16,), latent_dim=LATENT_DIM, epochs=2,
                                      anneal_steps=0, device="cpu", random_state=0).fit(users)
    mean, variance = posterior_moments(anchored, users[:4], dropout=0.5, random_state=0)
    assert mean.shape == variance.shape == (4, LATENT_DIM)


def test_wasserstein_distance_is_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(0)
    mean_a, mean_b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    var_a, var_b = rng.uniform(0.1, 2, size=(4, 3)), rng.uniform(0.1, 2, size=(5, 3))

    squared = wasserstein_distances(mean_a, var_a, mean_b, var_b, squared=True)

    expected = (((mean_a[:, None] - mean_b[None]) ** 2).sum(axis=2)
                + ((np.sqrt(var_a)[:, None] - np.sqrt(var_b)[None]) ** 2).sum(axis=2))
    np.testing.assert_allclose(squared, expected, rtol=1e-10)
    np.testing.assert_allclose(wasserstein_distances(mean_a, var_a, mean_b, var_b),
                               np.sqrt(expected), rtol=1e-10)


def test_wasserstein_distances_of_a_set_with_itself_are_symmetric_with_zero_diagonal():
    rng = np.random.default_rng(1)
    distances = wasserstein_distances(rng.normal(size=(6, 2)), rng.uniform(size=(6, 2)))
    np.testing.assert_allclose(distances, distances.T)
    np.testing.assert_allclose(np.diag(distances), 0.0, atol=1e-7)


@pytest.mark.parametrize("variance_a, message", [(-np.ones((2, 3)), "negative"),
                                                 (np.ones((2, 4)), "same shape"),
                                                 (None, "without variance_a")])
def test_wasserstein_distances_reject_invalid_moments(variance_a, message):
    with pytest.raises(ValueError, match=message):
        wasserstein_distances(np.zeros((2, 3)), variance_a)


def test_without_masking_neighbourhoods_do_not_drift(model, users):
    result = mask_stability(model, users, n_masks=3, dropout=0.0, k=5, random_state=0)
    np.testing.assert_allclose(result.neighbour_overlap, 1.0)
    np.testing.assert_allclose(result.mean_variance, 0.0, atol=1e-12)
    assert result.drift == pytest.approx(0.0) and result.relative_mask_variance == 0.0


def test_masking_moves_users_and_their_neighbourhoods(model, users):
    result = mask_stability(model, users, n_masks=4, k=5, random_state=0)

    assert result.neighbour_overlap.shape == result.mean_variance.shape == (users.shape[0],)
    assert np.all((result.neighbour_overlap >= 0) & (result.neighbour_overlap <= 1))
    assert result.drift > 0 and result.mask_variance > 0
    assert 0 < result.relative_mask_variance < 1
    assert (result.k, result.n_masks) == (5, 4)


def test_mask_variance_matches_a_direct_computation(model, users):
    result = mask_stability(model, users, n_masks=3, k=5, random_state=7)

    seeds = np.random.RandomState(7).randint(2**31 - 1, size=3)
    means = np.stack([posterior_moments(model, users, dropout=model.dropout,
                                        random_state=seed)[0] for seed in seeds])
    np.testing.assert_allclose(result.mean_variance, means.var(axis=0).sum(axis=1),
                               rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("kwargs, message", [({"k": 150}, "k=150"),
                                             ({"n_masks": 1}, "n_masks"),
                                             ({"dropout": 1.0}, "dropout")])
def test_mask_stability_rejects_invalid_settings(model, users, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mask_stability(model, users, **kwargs)


def test_active_units_count_the_dimensions_whose_mean_varies_across_users(model, users):
    mean, _ = model.encode(users)
    variances = mean.astype(np.float64).var(axis=0)
    threshold = float(np.median(variances))

    assert active_units(model, users, threshold=threshold) == int(np.sum(variances > threshold))
    assert active_units(model, users, threshold=0.0) == LATENT_DIM
    assert active_units(model, users, threshold=1e6) == 0


def test_diagnostics_need_a_fitted_vae(users):
    with pytest.raises(NotFittedError):
        active_units(MultVAERecommender(), users)

    class FittedWithoutEncoder(BaseEstimator):
        def fit(self, X):
            self.n_features_in_ = X.shape[1]
            return self

    with pytest.raises(TypeError, match="no VAE encoder"):
        posterior_moments(FittedWithoutEncoder().fit(users), users)
