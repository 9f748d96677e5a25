"""Ranking metrics: definitions of METHOD.md, agreement with sklearn, batch independence."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from skvaecf import metrics
from skvaecf.metrics import make_recommender_scorer, ndcg_at_k, ranking_metrics, recall_at_k


def _random_case(n_users=50, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    y_true = (rng.random((n_users, n_items)) < 0.2).astype(np.float32)
    y_true[0] = 0.0  # a user with nothing held out
    y_score = rng.permutation(n_users * n_items).reshape(n_users, n_items).astype(float)
    return y_true, y_score


@pytest.mark.parametrize("k", [1, 5, 10, 30])
def test_ndcg_agrees_with_sklearn_on_binary_data_without_ties(k):
    y_true, y_score = _random_case()
    evaluated = y_true.sum(axis=1) > 0
    expected = ndcg_score(y_true[evaluated], y_score[evaluated], k=k)
    assert ndcg_at_k(y_true, y_score, k=k) == pytest.approx(expected, rel=1e-10)


def test_recall_uses_the_min_k_held_out_denominator():
    y_true = np.array([[1, 1, 1, 1, 0, 0]])
    y_score = np.array([[6, 5, 1, 0, 4, 3]])
    assert recall_at_k(y_true, y_score, k=2) == 1.0
    assert recall_at_k(y_true, y_score, k=4) == 0.5


def test_ndcg_formula_on_a_hand_computed_case():
    y_true = np.array([[0, 1, 0, 1]])
    y_score = np.array([[4, 3, 2, 1]])
    dcg = 1 / np.log2(3) + 1 / np.log2(5)
    idcg = 1 + 1 / np.log2(3)
    assert ndcg_at_k(y_true, y_score, k=4) == pytest.approx(dcg / idcg)


def test_users_without_held_out_items_are_left_out_and_nan_per_user():
    y_true, y_score = _random_case()
    per_user = ndcg_at_k(y_true, y_score, k=10, per_user=True)
    assert np.isnan(per_user[0]) and not np.isnan(per_user[1:]).any()
    assert ndcg_at_k(y_true, y_score, k=10) == pytest.approx(per_user[1:].mean())


def test_results_do_not_depend_on_the_batch_size(monkeypatch):
    y_true, y_score = _random_case(n_users=300)
    reference = {name: fn(y_true, y_score, k=10) for name, fn in
                 [("ndcg", ndcg_at_k), ("recall", recall_at_k)]}
    monkeypatch.setattr(metrics, "_HIT_BATCH_USERS", 7)
    assert ndcg_at_k(y_true, y_score, k=10) == reference["ndcg"]
    assert recall_at_k(y_true, y_score, k=10) == reference["recall"]


def test_ranking_metrics_treat_minus_one_slots_as_misses():
    held_out = sp.csr_matrix(np.array([[1, 0, 0]]))
    assert ranking_metrics(np.array([[-1, 0]]), held_out, ["recall@2"])["recall@2"] == 1.0
    assert ranking_metrics(np.array([[-1, -1]]), held_out, ["ndcg@2"])["ndcg@2"] == 0.0


def test_metrics_accept_k_larger_than_the_ranking():
    held_out = sp.csr_matrix(np.array([[1, 0, 1]]))
    values = ranking_metrics(np.array([[0, 1, 2]]), held_out, ["ndcg@100", "recall@100"])
    assert values["recall@100"] == 1.0 and 0 < values["ndcg@100"] < 1


@pytest.mark.parametrize("name", ["ndcg", "precision@10", "ndcg@0", "recall@-3"])
def test_unknown_metric_names_are_rejected(name):
    with pytest.raises(ValueError, match="Unknown metric"):
        make_recommender_scorer(name)


def test_shape_mismatch_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        ndcg_at_k(np.ones((3, 4)), np.ones((3, 5)), k=2)


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k])
def test_k_beyond_the_catalogue_ranks_the_whole_catalogue(metric):
    y_true, y_score = _random_case(n_items=30)
    assert metric(y_true, y_score, k=100) == metric(y_true, y_score, k=30)


def test_ndcg_beyond_the_catalogue_agrees_with_sklearn():
    y_true, y_score = _random_case(n_items=30)
    evaluated = y_true.sum(axis=1) > 0
    expected = ndcg_score(y_true[evaluated], y_score[evaluated], k=100)
    assert ndcg_at_k(y_true, y_score, k=100) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("k, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                      (True, TypeError)])
def test_k_must_be_a_positive_integer(k, error):
    with pytest.raises(error, match="k"):
        recall_at_k(np.ones((2, 4)), np.ones((2, 4)), k=k)


def test_nan_scores_are_rejected():
    y_score = np.array([[0.3, np.nan, 0.1, 0.2]])
    with pytest.raises(ValueError, match="1 NaN values"):
        ndcg_at_k(np.array([[1, 0, 1, 0]]), y_score, k=2)


def test_sparse_scores_are_rejected_with_a_hint():
    with pytest.raises(TypeError, match="toarray"):
        ndcg_at_k(np.array([[1, 0, 1, 0]]), sp.csr_matrix(np.ones((1, 4))), k=2)


def test_complex_scores_are_rejected():
    with pytest.raises(ValueError, match="[Cc]omplex"):
        ndcg_at_k(np.array([[1, 0, 1, 0]]), np.ones((1, 4)) * 1j, k=2)


def test_ranking_metrics_reject_an_item_listed_twice():
    held_out = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    with pytest.raises(ValueError, match="more than once for 1 user"):
        ranking_metrics(np.array([[0, 0]]), held_out, ["recall@2"])


def test_ranking_metrics_allow_several_empty_slots():
    held_out = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    assert ranking_metrics(np.array([[0, -1, -1]]), held_out, ["recall@3"])["recall@3"] == 0.5


@pytest.mark.parametrize("bad", [-5, 4])
def test_ranking_metrics_reject_item_indices_out_of_range(bad):
    held_out = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    with pytest.raises(ValueError, match=f"item index {bad}"):
        ranking_metrics(np.array([[0, bad]]), held_out, ["recall@2"])


def test_ranking_metrics_reject_non_integer_indices():
    held_out = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    with pytest.raises(TypeError, match="integer item indices"):
        ranking_metrics(np.array([[0.0, 2.0]]), held_out, ["recall@2"])


def test_ranking_metrics_accept_a_single_metric_name():
    held_out = sp.csr_matrix(np.array([[1, 0, 1, 0]]))
    assert ranking_metrics(np.array([[0, 1]]), held_out, "recall@2") == {"recall@2": 0.5}


@pytest.mark.parametrize("params, name", [({"held_out_fraction": 1.5}, "held_out_fraction"),
                                          ({"held_out_fraction": 0.0}, "held_out_fraction"),
                                          ({"min_interactions": -1}, "min_interactions"),
                                          ({"min_interactions": 2.5}, "min_interactions")])
def test_a_scorer_with_impossible_split_parameters_is_rejected_when_made(params, name):
    with pytest.raises(ValueError, match=name):
        make_recommender_scorer("ndcg@10", **params)


def test_no_held_out_item_at_all_is_an_error():
    with pytest.raises(ValueError, match="No user has a held-out"):
        ndcg_at_k(np.zeros((2, 4)), np.ones((2, 4)), k=2)
