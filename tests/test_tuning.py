"""Optuna searches: skvaecf.tuning.tune_recommender and optuna-integration's OptunaSearchCV."""

import runpy
import sys
from pathlib import Path

import numpy as np
import optuna
import optuna_integration
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState
from sklearn.base import clone
from sklearn.model_selection import KFold

from skvaecf import AnchoredVAERecommender, EASERecommender, MultVAERecommender
from skvaecf.metrics import evaluate_recommender, make_recommender_scorer
from skvaecf.model_selection import strong_generalization_split
from skvaecf.tuning import tune_recommender

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY = {"hidden_dims": (16,), "latent_dim": 8, "epochs": 3, "anneal_steps": 0,
        "batch_size": 32, "device": "cpu", "random_state": 0}

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


@pytest.fixture
def split(small_interactions):
    return strong_generalization_split(small_interactions, 30, 10, random_state=0)


def _tune(split, param_space, **kwargs):
    kwargs = {"n_trials": 3, "storage": None, "random_state": 0, **kwargs}
    estimator = kwargs.pop("estimator", MultVAERecommender(**TINY))
    return tune_recommender(estimator, split.train, split.validation_data, param_space,
                            **kwargs)


def test_every_epoch_is_reported_and_the_best_trial_is_chosen(split):
    result = _tune(split, {"beta": FloatDistribution(0.0, 1.0)},
                   pruner=optuna.pruners.NopPruner())

    trials = result.study.trials
    assert len(trials) == 3 and all(t.state == TrialState.COMPLETE for t in trials)
    for trial in trials:
        curve = trial.intermediate_values
        assert sorted(curve) == [1, 2, 3]
        assert trial.value == max(curve.values())
    assert result.best_score == max(t.value for t in trials)
    assert result.best_params == {"beta": result.study.best_params["beta"]}


def test_the_refitted_model_is_the_best_trial_at_its_best_epoch(split):
    result = _tune(split, {"beta": FloatDistribution(0.0, 1.0)})
    best = result.best_estimator

    assert best.beta == result.best_params["beta"]
    assert best.history_["epoch"][-1] == result.best_epoch
    score = evaluate_recommender(best, *split.validation_data, ["ndcg@100"])["ndcg@100"]
    assert score == pytest.approx(result.best_score, abs=1e-12)


def test_pruning_stops_a_clearly_worse_trial(split):
    def space(trial):
        # Two trials that learn, then one whose tiny learning rate leaves it untrained.
        return {"learning_rate": [1e-2, 3e-2, 1e-9][trial.number]}

    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    result = _tune(split, space, pruner=pruner)

    learned_1, learned_2, untrained = result.study.trials
    assert learned_1.state == learned_2.state == TrialState.COMPLETE
    assert untrained.state == TrialState.PRUNED
    assert len(untrained.intermediate_values) < TINY["epochs"]
    assert result.best_params["learning_rate"] != 1e-9


def test_a_study_is_resumed_from_its_sqlite_file(split, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    space = {"beta": FloatDistribution(0.0, 1.0)}
    first = _tune(split, space, n_trials=2, storage=storage, study_name="resumed")
    second = _tune(split, space, n_trials=2, storage=storage, study_name="resumed")

    assert [t.number for t in second.study.trials] == [0, 1, 2, 3]
    stored = optuna.load_study(study_name="resumed", storage=storage)
    assert len(stored.trials) == 4
    assert second.best_score >= first.best_score


def test_a_new_study_records_the_metric_estimator_and_parameters_it_searches(split):
    result = _tune(split, {"beta": FloatDistribution(0.0, 1.0),
                           "dropout": FloatDistribution(0.0, 0.9)},
                   n_trials=1, metric="NDCG@100", refit=False)

    assert result.study.user_attrs["skvaecf_search"] == {
        "metric": "ndcg@100", "estimator": "MultVAERecommender",
        "param_names": ["beta", "dropout"]}


@pytest.mark.parametrize("change, message", [
    ({"metric": "recall@20"}, "metric 'ndcg@100' in the study, 'recall@20' now"),
    ({"estimator": AnchoredVAERecommender(**TINY)},
     "estimator 'MultVAERecommender' in the study, 'AnchoredVAERecommender' now"),
    ({"param_space": {"dropout": FloatDistribution(0.0, 0.9)}},
     r"param_names \['beta'\] in the study, \['dropout'\] now"),
    ({"param_space": lambda trial: {"n_recommendations": trial.suggest_int("n", 1, 5)}},
     r"param_names \['beta'\] in the study, \['n_recommendations'\] now"),
], ids=["metric", "estimator", "space", "callable space"])
def test_resuming_a_study_for_another_search_is_refused_before_any_trial(split, tmp_path,
                                                                          change, message):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, n_trials=1, storage=storage,
          study_name="made-for-beta", refit=False)

    change = {"param_space": {"beta": FloatDistribution(0.0, 1.0)}, **change}
    with pytest.raises(ValueError, match=f"'made-for-beta' was made for another search.*"
                                         f"{message}"):
        _tune(split, change.pop("param_space"), n_trials=1, storage=storage,
              study_name="made-for-beta", **change)
    assert len(optuna.load_study(study_name="made-for-beta", storage=storage).trials) == 1


def test_a_study_without_trials_takes_the_search_of_its_first_run(split, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.raises(ValueError, match="n_trials=0"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, n_trials=0, storage=storage,
              study_name="empty")

    result = _tune(split, {"dropout": FloatDistribution(0.0, 0.9)}, n_trials=1,
                   storage=storage, study_name="empty", refit=False)
    assert result.study.user_attrs["skvaecf_search"]["param_names"] == ["dropout"]


@pytest.mark.parametrize("n_trials", [-1, 2.5, "3", True])
def test_a_number_of_trials_that_is_not_a_count_is_refused(split, n_trials):
    with pytest.raises(ValueError, match=f"n_trials must be an integer >= 0.*{n_trials!r}"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, n_trials=n_trials)


@pytest.mark.parametrize("timeout", [0, -5.0, float("nan"), "60"])
def test_a_timeout_that_is_not_a_positive_duration_is_refused(split, timeout):
    with pytest.raises(ValueError, match=f"timeout must be a number of seconds > 0.*"
                                         f"{timeout!r}"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, timeout=timeout)


def test_zero_trials_on_a_study_without_results_says_there_is_nothing_to_read(split):
    with pytest.raises(ValueError, match="n_trials=0 runs no trial.*no completed trial"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, n_trials=0)


@pytest.fixture
def stopped_early(split):
    """A search whose one trial peaks at epoch 2 of 4 (a large learning rate overfits)."""
    model = MultVAERecommender(**{**TINY, "epochs": 4, "learning_rate": 0.1})
    result = _tune(split, {"beta": CategoricalDistribution([0.2])}, n_trials=1,
                   estimator=model)
    assert result.best_epoch < 4, "the fixture needs a best epoch before the last"
    return result


def test_the_best_estimator_has_the_parameters_it_was_trained_with(stopped_early):
    params = stopped_early.best_estimator.get_params()
    assert params["epochs"] == stopped_early.best_epoch
    assert params["validation_fraction"] is None
    assert stopped_early.best_estimator.history_["epoch"][-1] == stopped_early.best_epoch


@pytest.mark.parametrize("with_validation", [False, True], ids=["alone", "with validation"])
def test_a_clone_of_the_best_estimator_fitted_again_is_the_same_model(split, stopped_early,
                                                                      with_validation):
    best = stopped_early.best_estimator
    validation_data = split.validation_data if with_validation else None
    again = clone(best).fit(split.train, validation_data=validation_data)

    np.testing.assert_array_equal(again.recommend(split.test_fold_in, k=10),
                                  best.recommend(split.test_fold_in, k=10))
    score = evaluate_recommender(again, *split.validation_data, ["ndcg@100"])["ndcg@100"]
    assert score == pytest.approx(stopped_early.best_score, abs=1e-12)


def test_a_study_can_be_read_back_without_new_trials(split, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    space = {"beta": FloatDistribution(0.0, 1.0)}
    searched = _tune(split, space, n_trials=2, storage=storage, study_name="done", refit=False)
    read = _tune(split, space, n_trials=0, storage=storage, study_name="done")

    assert len(read.study.trials) == 2 and searched.best_estimator is None
    assert read.best_params == searched.best_params
    assert read.best_estimator.history_["epoch"][-1] == searched.best_epoch


@pytest.mark.parametrize("space", [
    {"nonsense": FloatDistribution(0.0, 1.0)},
    lambda trial: {"nonsense": trial.suggest_float("nonsense", 0.0, 1.0)},
], ids=["dict", "callable"])
def test_an_unknown_parameter_gives_sklearns_error(split, space):
    with pytest.raises(ValueError, match="Invalid parameter 'nonsense'"):
        _tune(split, space)


def test_a_failing_trial_is_recorded_and_the_study_goes_on(split):
    def space(trial):
        return {"dropout": [0.5, 1.5, 0.2][trial.number]}  # 1.5 is not a probability

    result = _tune(split, space)

    states = [t.state for t in result.study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    reason = result.study.trials[1].user_attrs["fail_reason"]
    assert "InvalidParameterError" in reason and "dropout" in reason


def test_the_reason_a_trial_failed_is_in_optunas_warning(split, caplog):
    def space(trial):
        return {"dropout": [0.5, 1.5][trial.number]}

    with caplog.at_level("WARNING", logger="optuna"):
        _tune(split, space, n_trials=2)
    failed = [r.getMessage() for r in caplog.records if "Trial 1 failed" in r.getMessage()]
    assert failed and "InvalidParameterError" in failed[0] and "dropout" in failed[0]


def test_an_invalid_fixed_parameter_is_refused_before_any_trial(split):
    estimator = MultVAERecommender(**{**TINY, "dropout": 1.5})
    with pytest.raises(ValueError, match="'dropout' parameter"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)}, estimator=estimator)


def test_a_study_where_every_trial_fails_raises_with_the_reason(split):
    with pytest.raises(ValueError, match="No trial .* completed.*dropout"):
        _tune(split, lambda trial: {"dropout": 1.5}, n_trials=2)


def test_a_model_without_partial_fit_is_fitted_once_per_trial(split):
    result = _tune(split, {"l2": FloatDistribution(1.0, 1000.0, log=True)},
                   estimator=EASERecommender(device="cpu"))

    assert all(t.intermediate_values.keys() == {1} for t in result.study.trials)
    assert result.best_epoch == 1 and result.best_estimator.l2 == result.best_params["l2"]


def test_patience_ends_a_trial_early(split):
    result = _tune(split, {"learning_rate": CategoricalDistribution([1e-9])}, n_trials=1,
                   estimator=MultVAERecommender(**{**TINY, "epochs": 10, "patience": 2}))
    # An untrained model never improves on its first epoch.
    assert sorted(result.study.trials[0].intermediate_values) == [1, 2, 3]


@pytest.mark.parametrize("space, error", [
    ([("beta", 0.1)], TypeError),
    ({"beta": [0.1, 0.2]}, TypeError),
])
def test_a_malformed_space_is_rejected(split, space, error):
    with pytest.raises(error, match="param_space"):
        _tune(split, space)


def test_validation_data_must_share_the_items_of_x(split):
    with pytest.raises(ValueError, match="items"):
        tune_recommender(MultVAERecommender(**TINY), split.train,
                         (split.validation_fold_in[:, :-1], split.validation_held_out[:, :-1]),
                         {"beta": FloatDistribution(0.0, 1.0)}, storage=None)


def test_a_missing_optuna_gives_the_install_command(split, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match=r"skvaecf\[optuna\]"):
        _tune(split, {"beta": FloatDistribution(0.0, 1.0)})


def test_optuna_search_cv_prunes_epoch_by_epoch_over_user_folds(small_interactions):
    search = optuna_integration.OptunaSearchCV(
        MultVAERecommender(**TINY), {"beta": FloatDistribution(0.0, 1.0)},
        cv=KFold(2, shuffle=True, random_state=0), enable_pruning=True, max_iter=2,
        n_trials=2, scoring=make_recommender_scorer("ndcg@100"), random_state=0)
    search.fit(small_interactions)

    assert all(sorted(t.intermediate_values) == [0, 1] for t in search.study_.trials)
    assert 0.0 < search.best_score_ <= 1.0
    assert search.best_estimator_.recommend(small_interactions[:2], k=3).shape == (2, 3)


@pytest.mark.parametrize("script, extra", [
    ("tune_optuna.py", ["--storage", "{tmp}"]),
    ("tune_optuna_search_cv.py", []),
])
def test_the_optuna_examples_run(script, extra, tmp_path, monkeypatch, capsys):
    extra = [arg.format(tmp=f"sqlite:///{tmp_path / 'example.db'}") for arg in extra]
    monkeypatch.setattr("sys.argv", [script, "--n-users", "300", "--epochs", "2",
                                     "--n-trials", "2", *extra])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert "test NDCG@100" in capsys.readouterr().out
