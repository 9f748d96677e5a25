"""scikit-learn's searches and cross-validation over users, with the package's scorers.

``KFold`` (or ``PredefinedSplit``) splits the rows, that is the users; the scorers split each
evaluation user's row into fold-in and held-out parts, so every search here is a
strong-generalisation search.
"""

import pickle
import runpy
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import (GridSearchCV, KFold, PredefinedSplit, RandomizedSearchCV,
                                     cross_val_score, cross_validate)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer
from sklearn.utils._param_validation import InvalidParameterError

from skvaecf import (AnchoredVAERecommender, EASERecommender, MultVAERecommender,
                     strong_generalization_split)
from skvaecf.metrics import evaluate_recommender, make_recommender_scorer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

TINY_VAE = dict(hidden_dims=(16,), latent_dim=8, epochs=2, anneal_steps=0, batch_size=32,
                validation_fraction=None, device="cpu", random_state=0)
SCORING = {"ndcg@100": make_recommender_scorer("ndcg@100"),
           "recall@20": make_recommender_scorer("recall@20")}
CV = KFold(2, shuffle=True, random_state=0)


def test_grid_search_reports_every_metric_and_refits_on_the_chosen_one(small_interactions):
    search = GridSearchCV(MultVAERecommender(**TINY_VAE), {"beta": [0.0, 0.5]}, cv=CV,
                          scoring=SCORING, refit="recall@20")
    search.fit(small_interactions)

    results = search.cv_results_
    assert {"mean_test_ndcg@100", "mean_test_recall@20"} <= set(results)
    assert search.best_index_ == int(np.argmax(results["mean_test_recall@20"]))
    assert search.best_estimator_.beta == results["param_beta"][search.best_index_]
    assert search.best_estimator_.recommend(small_interactions[:3], k=4).shape == (3, 4)


def test_randomized_search_samples_from_scipy_distributions(small_interactions):
    space = {"learning_rate": loguniform(1e-4, 1e-1), "dropout": uniform(0.0, 0.9)}
    search = RandomizedSearchCV(MultVAERecommender(**TINY_VAE), space, n_iter=3, cv=CV,
                                scoring=SCORING["ndcg@100"], random_state=0)
    search.fit(small_interactions)

    rates = np.asarray(search.cv_results_["param_learning_rate"], dtype=float)
    assert len(set(rates)) == 3 and np.all((rates >= 1e-4) & (rates <= 1e-1))
    assert 0.0 < search.best_score_ <= 1.0


def test_cross_validate_scores_each_fold_on_users_unseen_in_its_training(small_interactions):
    model = MultVAERecommender(**TINY_VAE)
    result = cross_validate(model, small_interactions, cv=CV, scoring=SCORING,
                            return_indices=True)

    for fold, (train, test) in enumerate(zip(result["indices"]["train"],
                                             result["indices"]["test"])):
        assert not set(train) & set(test)
        fitted = clone(model).fit(small_interactions[train])
        for name, scorer in SCORING.items():
            expected = scorer(fitted, small_interactions[test])
            assert result[f"test_{name}"][fold] == pytest.approx(expected)


def test_cross_val_score_takes_a_scorer_of_the_package(small_interactions):
    scores = cross_val_score(EASERecommender(l2=10.0, device="cpu"), small_interactions,
                             cv=CV, scoring=make_recommender_scorer("recall@20"))
    assert scores.shape == (2,) and np.all((scores > 0) & (scores <= 1))


def test_a_pipeline_step_parameter_is_searched_with_several_metrics(small_interactions):
    counts = small_interactions * 3.0
    pipeline = make_pipeline(Binarizer(), MultVAERecommender(**TINY_VAE))
    search = GridSearchCV(pipeline, {"multvaerecommender__beta": [0.0, 0.5]}, cv=CV,
                          scoring=SCORING, refit="ndcg@100")
    search.fit(counts)

    assert np.all(np.isfinite(search.cv_results_["mean_test_recall@20"]))
    assert search.best_estimator_.predict(counts[:2]).shape == (2, counts.shape[1])


def test_parallel_search_gives_the_results_of_a_sequential_one(small_interactions):
    # One candidate, two folds: each of the two worker processes fits one pickled model.
    grid = {"beta": [0.2]}
    model = MultVAERecommender(**{**TINY_VAE, "epochs": 1})
    sequential = GridSearchCV(model, grid, cv=CV, n_jobs=1).fit(small_interactions)
    parallel = GridSearchCV(model, grid, cv=CV, n_jobs=2).fit(small_interactions)

    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"],
                               sequential.cv_results_["mean_test_score"])


def test_a_fitted_search_pickles_with_its_best_estimator(small_interactions):
    search = GridSearchCV(MultVAERecommender(**TINY_VAE), {"beta": [0.0]}, cv=CV)
    search.fit(small_interactions)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(small_interactions[:4]).toarray(),
                                  search.predict(small_interactions[:4]).toarray())


def _validation_search(estimator, grid, split):
    """A search that trains on the training users and scores on the validation users only."""
    validation_rows = split.validation_fold_in + split.validation_held_out
    X = sp.vstack([split.train, validation_rows]).tocsr()
    folds = np.r_[np.full(split.train.shape[0], -1), np.zeros(validation_rows.shape[0])]
    search = GridSearchCV(estimator, grid, cv=PredefinedSplit(folds),
                          scoring=make_recommender_scorer("ndcg@100"))
    return search.fit(X), validation_rows


@pytest.mark.parametrize("estimator, grid", [
    (AnchoredVAERecommender(**TINY_VAE), {"anchor_weight": [0.0, 1.0], "beta": [0.0, 0.2]}),
    (MultVAERecommender(**TINY_VAE), {"beta": [0.0, 0.5]}),
    (EASERecommender(device="cpu"), {"l2": [1.0, 100.0]}),
], ids=["anchor_weight-beta", "beta", "l2"])
def test_search_selects_on_validation_users_and_reports_on_test_users(
        estimator, grid, small_interactions):
    split = strong_generalization_split(small_interactions, 30, 20, random_state=0)
    search, validation_rows = _validation_search(estimator, grid, split)

    scorer = make_recommender_scorer("ndcg@100")
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_score"]):
        trained_on_training_users = clone(estimator).set_params(**params).fit(split.train)
        assert score == pytest.approx(scorer(trained_on_training_users, validation_rows))

    assert not set(split.test_users) & (set(split.train_users) | set(split.validation_users))
    test = evaluate_recommender(search.best_estimator_, split.test_fold_in,
                                split.test_held_out, ["ndcg@100"])
    assert 0.0 < test["ndcg@100"] <= 1.0


def test_a_grid_naming_an_unknown_parameter_gives_sklearns_error(small_interactions):
    search = GridSearchCV(MultVAERecommender(**TINY_VAE), {"nonsense": [1, 2]}, cv=CV)
    with pytest.raises(ValueError, match="Invalid parameter 'nonsense'"):
        search.fit(small_interactions)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_an_invalid_value_fails_its_candidate_only(small_interactions):
    model = MultVAERecommender(**TINY_VAE)
    with pytest.warns(FitFailedWarning, match="dropout"):
        search = GridSearchCV(model, {"dropout": [0.5, 1.5]}, cv=CV).fit(small_interactions)
    assert np.isfinite(search.cv_results_["mean_test_score"][0])
    assert np.isnan(search.cv_results_["mean_test_score"][1])

    with pytest.raises(InvalidParameterError, match="dropout"):
        GridSearchCV(model, {"dropout": [1.5]}, cv=CV, error_score="raise").fit(
            small_interactions)


def test_the_grid_search_example_runs(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["tune_gridsearch.py", "--n-users", "300",
                                     "--epochs", "2"])
    runpy.run_path(str(EXAMPLES / "tune_gridsearch.py"), run_name="__main__")
    assert "test NDCG@100" in capsys.readouterr().out
