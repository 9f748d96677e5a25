"""The estimator contract that every recommender of the package honours.

Each test runs on every entry of ``_estimators.fast_estimators()``.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer

from _estimators import fast_estimators
from skvaecf.metrics import evaluate_recommender

ESTIMATORS = fast_estimators()
IDS = [type(e).__name__ for e in ESTIMATORS]
parametrize = pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)


@pytest.fixture
def fitted(request, small_interactions):
    return clone(request.param).fit(small_interactions)


parametrize_fitted = pytest.mark.parametrize("fitted", ESTIMATORS, ids=IDS, indirect=True)


@parametrize
def test_fit_returns_self_and_records_the_number_of_items(estimator, small_interactions):
    model = clone(estimator)
    assert model.fit(small_interactions) is model
    assert model.n_features_in_ == small_interactions.shape[1]


@parametrize
def test_any_sparse_format_and_dense_input_give_the_same_scores(estimator, small_interactions):
    scores = [clone(estimator).fit(X).decision_function(small_interactions[:5])
              for X in (small_interactions, small_interactions.tocoo(),
                        small_interactions.toarray())]
    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores[0], scores[2], rtol=1e-5, atol=1e-6)


@parametrize_fitted
def test_decision_function_is_float32_users_by_items(fitted, small_interactions):
    scores = fitted.decision_function(small_interactions[:7])
    assert scores.shape == (7, small_interactions.shape[1])
    assert scores.dtype == np.float32
    assert np.all(np.isfinite(scores))


@parametrize_fitted
def test_recommend_ranks_unseen_items_best_first(fitted, small_interactions):
    X = small_interactions[:10]
    top = fitted.recommend(X, k=5)
    scores = fitted.decision_function(X)

    assert top.shape == (10, 5) and top.dtype == np.int64
    for user in range(10):
        seen = set(X[user].indices)
        assert not seen & set(top[user])
        ranked = scores[user, top[user]]
        assert np.all(np.diff(ranked) <= 1e-6)
        unseen = np.setdiff1d(np.arange(X.shape[1]), list(seen) + list(top[user]))
        assert np.all(scores[user, unseen] <= ranked[-1] + 1e-6)


@parametrize_fitted
def test_recommend_can_include_seen_items(fitted, small_interactions):
    X = small_interactions[:10]
    top = fitted.recommend(X, k=X.shape[1], exclude_seen=False)
    assert np.all(np.sort(top, axis=1) == np.arange(X.shape[1]))


@parametrize_fitted
def test_recommend_pads_with_minus_one_when_too_few_unseen_items(fitted, small_interactions):
    X = sp.csr_matrix(np.ones((1, small_interactions.shape[1]), dtype=np.float32))
    X[0, 3] = 0
    X.eliminate_zeros()
    top = fitted.recommend(X, k=3)
    assert top[0, 0] == 3 and np.all(top[0, 1:] == -1)


@parametrize_fitted
@pytest.mark.parametrize("k", [0, -1, 41])
def test_recommend_rejects_k_outside_the_catalogue(fitted, small_interactions, k):
    with pytest.raises(ValueError, match="k="):
        fitted.recommend(small_interactions[:2], k=k)


@parametrize_fitted
def test_predict_marks_n_recommendations_unseen_items(fitted, small_interactions):
    X = small_interactions[:10]
    indicator = fitted.predict(X)

    assert sp.issparse(indicator) and indicator.shape == X.shape
    assert np.all(indicator.sum(axis=1) == fitted.n_recommendations)
    assert indicator.multiply(X).nnz == 0
    expected = fitted.recommend(X, k=fitted.n_recommendations)
    assert np.all(np.sort(indicator.indices.reshape(10, -1), axis=1) == np.sort(expected, 1))


@parametrize_fitted
def test_users_unseen_in_fit_and_users_without_interactions_are_scored(fitted):
    new_users = sp.csr_matrix(np.zeros((3, fitted.n_features_in_), dtype=np.float32))
    new_users[1, [0, 2, 4]] = 1
    scores = fitted.decision_function(new_users)
    assert scores.shape == (3, fitted.n_features_in_) and np.all(np.isfinite(scores))


@parametrize_fitted
def test_score_is_ndcg_at_100_of_an_80_20_split(fitted, small_interactions):
    from skvaecf.model_selection import fold_in_split

    value = fitted.score(small_interactions)
    fold_in, held_out = fold_in_split(small_interactions, 0.2, random_state=0)
    assert 0.0 < value <= 1.0
    assert value == pytest.approx(
        evaluate_recommender(fitted, fold_in, held_out, ["ndcg@100"])["ndcg@100"])
    assert fitted.score(fold_in, held_out) == pytest.approx(value)


@parametrize_fitted
def test_pickle_round_trip_keeps_the_scores(fitted, small_interactions):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.decision_function(small_interactions[:5]),
                                  fitted.decision_function(small_interactions[:5]))


@parametrize_fitted
def test_fitted_model_keeps_no_copy_of_the_training_matrix(fitted, small_interactions):
    for name, value in vars(fitted).items():
        assert not sp.issparse(value), f"{name} holds a sparse matrix"
        if isinstance(value, np.ndarray):
            assert value.shape[0] != small_interactions.shape[0], f"{name} has a row per user"


@parametrize
def test_set_params_returns_self_and_clone_keeps_params(estimator):
    model = clone(estimator)
    assert model.set_params(n_recommendations=3) is model
    assert clone(model).get_params() == model.get_params()


@parametrize
def test_unfitted_model_raises_not_fitted_error(estimator, small_interactions):
    for method in ("decision_function", "recommend", "predict", "score"):
        with pytest.raises(NotFittedError):
            getattr(clone(estimator), method)(small_interactions)


@parametrize
@pytest.mark.parametrize("value, message", [(-1.0, "[Nn]egative"), (np.nan, "NaN"),
                                            (np.inf, "infinity")])
def test_fit_rejects_invalid_values(estimator, small_interactions, value, message):
    X = small_interactions.toarray()
    X[3, 5] = value
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(X)


@parametrize
def test_fit_rejects_values_beyond_the_float32_range(estimator, small_interactions):
    X = small_interactions.toarray().astype(np.float64)
    X[3, 5] = 1e39
    with pytest.raises(ValueError, match="too large for float32"):
        clone(estimator).fit(X)


@parametrize
def test_fit_rejects_empty_and_all_zero_matrices(estimator):
    with pytest.raises(ValueError):
        clone(estimator).fit(sp.csr_matrix((0, 10), dtype=np.float32))
    with pytest.raises(ValueError, match="no interactions"):
        clone(estimator).fit(sp.csr_matrix((5, 10), dtype=np.float32))


@parametrize
def test_fit_rejects_non_numeric_input(estimator):
    with pytest.raises((TypeError, ValueError)):
        clone(estimator).fit(np.array([["a", "b"], ["c", "d"]]))


@parametrize_fitted
def test_a_different_number_of_items_at_prediction_is_rejected(fitted, small_interactions):
    for method in ("decision_function", "recommend", "predict", "score"):
        with pytest.raises(ValueError, match="X has 39 features.*same 40 items"):
            getattr(fitted, method)(small_interactions[:, :-1])


@parametrize_fitted
def test_score_rejects_held_out_of_another_shape(fitted, small_interactions):
    with pytest.raises(ValueError, match="shape"):
        fitted.score(small_interactions[:10], small_interactions[:9])


@parametrize_fitted
def test_score_rejects_held_out_items_that_are_also_fold_in(fitted, small_interactions):
    users = small_interactions[:20]
    with pytest.raises(ValueError, match="shares .* entries with the fold-in"):
        fitted.score(users, users)


@parametrize_fitted
def test_score_rejects_an_empty_held_out_matrix(fitted, small_interactions):
    empty = sp.csr_matrix(small_interactions[:20].shape, dtype=np.float32)
    with pytest.raises(ValueError, match="no interactions"):
        fitted.score(small_interactions[:20], empty)


@parametrize_fitted
def test_score_without_y_explains_when_no_user_can_be_split(fitted, small_interactions):
    one_item_each = sp.csr_matrix(np.eye(20, small_interactions.shape[1], dtype=np.float32))
    with pytest.raises(ValueError, match="no user of X has the 5 interactions"):
        fitted.score(one_item_each)


@parametrize
def test_missing_validation_matrices_are_named(estimator, small_interactions):
    with pytest.raises(ValueError, match=r"validation_data\[0\] is None"):
        clone(estimator).fit(small_interactions, validation_data=(None, None))


@parametrize
def test_validation_data_that_cannot_be_scored_is_rejected_before_training(
        estimator, small_interactions):
    fold_in = small_interactions[:20]
    empty = sp.csr_matrix(fold_in.shape, dtype=np.float32)
    for held_out, message in [(fold_in, "shares"), (empty, "no interactions")]:
        model = clone(estimator)
        with pytest.raises(ValueError, match=message):
            model.fit(small_interactions[20:], validation_data=(fold_in, held_out))
        assert not hasattr(model, "n_features_in_") or not hasattr(model, "history_")


@parametrize_fitted
def test_recommend_rejects_a_non_boolean_exclude_seen(fitted, small_interactions):
    with pytest.raises(TypeError, match="exclude_seen"):
        fitted.recommend(small_interactions[:2], k=3, exclude_seen="no")


@parametrize
def test_works_in_a_pipeline_after_a_binarizer(estimator, small_interactions):
    counts = small_interactions * 3.0
    pipeline = make_pipeline(Binarizer(), clone(estimator)).fit(counts)
    assert pipeline.predict(counts[:4]).shape == (4, counts.shape[1])
    assert 0.0 < pipeline.score(counts) <= 1.0


@parametrize
def test_cross_val_score_over_users(estimator, small_interactions):
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(clone(estimator), small_interactions, cv=cv)
    assert scores.shape == (3,) and np.all((scores > 0) & (scores <= 1))


@parametrize
def test_grid_search_refits_a_usable_best_estimator(estimator, small_interactions):
    search = GridSearchCV(clone(estimator), {"n_recommendations": [3, 5]},
                          cv=KFold(2, shuffle=True, random_state=0))
    search.fit(small_interactions)
    assert search.best_estimator_.predict(small_interactions[:2]).shape[0] == 2
