"""Model-specific behaviour of the baselines: EASE, implicit ALS and popularity.

The shared estimator contract is tested for every model in ``test_api.py``.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skvaecf import ALSRecommender, EASERecommender, PopularityRecommender


def ease_closed_form(X: np.ndarray, l2: float) -> np.ndarray:
    """Steck's solution written directly with numpy: ``I - P / diag(P)``."""
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    return np.eye(X.shape[1]) - P / np.diag(P)


def weighted_least_squares(X: np.ndarray, fixed: np.ndarray, alpha: float,
                           regularization: float) -> np.ndarray:
    """One ALS half-step of Hu et al. with dense numpy: a system per row of ``X``."""
    solution = np.empty((X.shape[0], fixed.shape[1]))
    for row in range(X.shape[0]):
        confidence = 1.0 + alpha * X[row]
        preference = (X[row] > 0).astype(float)
        lhs = fixed.T @ (confidence[:, None] * fixed) + regularization * np.eye(fixed.shape[1])
        solution[row] = np.linalg.solve(lhs, fixed.T @ (confidence * preference))
    return solution


# ---------------------------------------------------------------------------- EASE
def test_ease_weights_equal_the_closed_form_solved_with_numpy(small_interactions):
    model = EASERecommender(l2=7.0, dtype="float64", device="cpu").fit(small_interactions)
    expected = ease_closed_form(small_interactions.toarray().astype(float), 7.0)
    np.testing.assert_allclose(model.item_weights_.numpy(), expected, atol=1e-10)


def test_ease_weights_have_a_zero_diagonal(small_interactions):
    model = EASERecommender(l2=7.0, device="cpu").fit(small_interactions)
    assert np.all(np.diag(model.item_weights_.numpy()) == 0.0)


def test_ease_scores_are_the_fold_in_rows_times_the_weights(small_interactions):
    model = EASERecommender(l2=7.0, dtype="float64", device="cpu").fit(small_interactions)
    new_users = sp.random(6, small_interactions.shape[1], density=0.2, random_state=1,
                          format="csr", dtype=np.float32) * 3
    expected = new_users.toarray().astype(float) @ model.item_weights_.numpy()
    np.testing.assert_allclose(model.decision_function(new_users), expected, rtol=1e-5,
                               atol=1e-6)


def test_ease_float32_weights_are_close_to_float64(small_interactions):
    single = EASERecommender(l2=7.0, dtype="float32", device="cpu").fit(small_interactions)
    double = EASERecommender(l2=7.0, dtype="float64", device="cpu").fit(small_interactions)
    assert single.item_weights_.dtype.itemsize == 4
    assert double.item_weights_.dtype.itemsize == 8
    np.testing.assert_allclose(single.item_weights_.numpy(), double.item_weights_.numpy(),
                               atol=1e-5)


def test_ease_raises_memory_error_stating_need_and_limit(small_interactions):
    # Two 40 x 40 float32 matrices need 12,800 bytes.
    with pytest.raises(MemoryError, match=r"needs 12\.5 KiB .* limit is 10\.0 KiB"):
        EASERecommender(device="cpu", max_memory=10 * 1024).fit(small_interactions)


def test_ease_accepts_a_max_memory_that_fits(small_interactions):
    model = EASERecommender(device="cpu", max_memory=12_800).fit(small_interactions)
    assert model.item_weights_.shape == (40, 40)


def test_ease_falls_back_to_the_cpu_when_the_gpu_has_too_little_memory(
        small_interactions, monkeypatch):
    from skvaecf.models import ease

    monkeypatch.setattr(ease, "resolve_device", lambda device: torch.device("cuda"))
    monkeypatch.setattr(ease, "_available_memory",
                        lambda device: 0 if device.type == "cuda" else 2**30)
    with pytest.warns(UserWarning, match="do not fit in the memory of cuda"):
        model = EASERecommender(device="cuda").fit(small_interactions)
    assert model.device_ == "cpu"


def test_ease_falls_back_to_the_cpu_when_a_gpu_allocation_fails(
        small_interactions, monkeypatch):
    from skvaecf.models import ease

    solve_on = []
    cpu_solve = ease._ease_weights

    def failing_on_gpu(gram, l2, dtype, device):
        solve_on.append(device.type)
        if device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return cpu_solve(gram, l2, dtype, device)

    monkeypatch.setattr(ease, "resolve_device", lambda device: torch.device("cuda"))
    monkeypatch.setattr(ease, "_available_memory", lambda device: 2**30)
    monkeypatch.setattr(ease, "_ease_weights", failing_on_gpu)
    with pytest.warns(UserWarning, match="ran out of memory on cuda"):
        model = EASERecommender(device="cuda").fit(small_interactions)
    assert solve_on == ["cuda", "cpu"] and model.device_ == "cpu"


def test_ease_rejects_a_non_positive_l2(small_interactions):
    with pytest.raises(ValueError, match="l2"):
        EASERecommender(l2=0.0, device="cpu").fit(small_interactions)


# ---------------------------------------------------------------------------- ALS
def test_als_user_factors_solve_the_weighted_least_squares_problem(small_interactions):
    model = ALSRecommender(factors=5, regularization=0.5, alpha=3.0, iterations=2,
                           device="cpu", random_state=0).fit(small_interactions)
    X = small_interactions[:15].toarray().astype(float) * 2
    expected = weighted_least_squares(X, model.item_factors_.numpy(), 3.0, 0.5)
    np.testing.assert_allclose(model.user_factors(X), expected, rtol=1e-8, atol=1e-10)


def test_als_training_alternates_fold_in_and_the_item_half_step(small_interactions):
    params = dict(factors=5, regularization=0.5, alpha=3.0, device="cpu", random_state=0)
    shorter = ALSRecommender(iterations=2, **params).fit(small_interactions)
    longer = ALSRecommender(iterations=3, **params).fit(small_interactions)

    # Iteration 3 solves the users against the items of iteration 2 (a fold-in), then the
    # items against those users.
    users = shorter.user_factors(small_interactions)
    X = small_interactions.toarray().astype(float)
    expected_items = weighted_least_squares(X.T, users, 3.0, 0.5)
    np.testing.assert_allclose(longer.item_factors_.numpy(), expected_items, rtol=1e-7,
                               atol=1e-9)


def test_als_scores_are_fold_in_factors_times_item_factors(small_interactions):
    model = ALSRecommender(factors=5, iterations=2, device="cpu", random_state=0)
    model.fit(small_interactions)
    X = small_interactions[:8]
    expected = model.user_factors(X) @ model.item_factors_.numpy().T
    np.testing.assert_allclose(model.decision_function(X), expected, rtol=1e-5, atol=1e-6)


def test_als_objective_decreases_at_every_iteration(small_interactions):
    model = ALSRecommender(factors=6, regularization=0.1, iterations=8, device="cpu",
                           random_state=0).fit(small_interactions)
    losses = np.array(model.history_["loss"])
    assert len(losses) == 8 and len(model.history_["seconds"]) == 8
    assert np.all(np.diff(losses) <= 1e-9 * losses[:-1])
    assert losses[-1] < 0.9 * losses[0]


def test_als_reproducible_with_random_state_and_different_across_seeds(small_interactions):
    def fit(seed):
        return ALSRecommender(factors=4, iterations=3, device="cpu",
                              random_state=seed).fit(small_interactions).item_factors_.numpy()

    np.testing.assert_array_equal(fit(3), fit(3))
    assert not np.allclose(fit(3), fit(4))


def test_als_float32_is_close_to_float64(small_interactions):
    params = dict(factors=4, regularization=1.0, iterations=3, device="cpu", random_state=0)
    single = ALSRecommender(dtype="float32", **params).fit(small_interactions)
    double = ALSRecommender(dtype="float64", **params).fit(small_interactions)
    assert single.item_factors_.dtype.itemsize == 4
    np.testing.assert_allclose(single.decision_function(small_interactions[:5]),
                               double.decision_function(small_interactions[:5]), atol=1e-3)


def test_als_verbose_shows_a_progress_bar(small_interactions, capsys):
    ALSRecommender(factors=4, iterations=2, device="cpu", random_state=0,
                   verbose=True).fit(small_interactions)
    assert "ALSRecommender" in capsys.readouterr().err


# ---------------------------------------------------------------------------- popularity
def test_popularity_counts_users_per_item_whatever_the_values():
    X = np.array([[5, 1, 0, 0],
                  [0, 2, 0, 1],
                  [0, 9, 0, 1]], dtype=float)
    model = PopularityRecommender().fit(X)
    np.testing.assert_array_equal(model.item_counts_, [1, 3, 0, 2])


def test_popularity_gives_every_user_the_counts_as_scores(small_interactions):
    model = PopularityRecommender().fit(small_interactions)
    scores = model.decision_function(small_interactions[:4])
    np.testing.assert_array_equal(scores, np.tile(model.item_counts_, (4, 1)))


def test_popularity_recommends_the_most_popular_unseen_items():
    X = np.array([[1, 1, 0, 0, 1],
                  [0, 1, 0, 1, 1],
                  [0, 1, 0, 1, 1],
                  [0, 1, 0, 0, 1]], dtype=float)
    model = PopularityRecommender().fit(X)
    top = model.recommend(np.array([[0, 1, 0, 0, 0]]), k=3)
    np.testing.assert_array_equal(top, [[4, 3, 0]])
