"""Hyper-parameter search with Optuna, stopping bad trials after a few epochs.

:func:`tune_recommender` runs an Optuna study over any recommender of the package. Models
trained by epochs (those with ``partial_fit``, such as the VAEs) are scored on the validation
users after every epoch and the score is reported to Optuna, whose pruner stops a trial that
is clearly worse than the others at the same epoch. The study lives in an Optuna storage: a
SQLite file by default, so that a search can be resumed, or a database URL that several
machines share.

Optuna is an optional dependency: ``pip install skvaecf[optuna]``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sklearn.base import clone

from skvaecf._validation import check_held_out, check_interactions
from skvaecf.metrics import _parse_metric, evaluate_recommender

if TYPE_CHECKING:
    import optuna

__all__ = ["TuningResult", "tune_recommender"]

logger = logging.getLogger(__name__)

#: Storage used when none is given: a SQLite file in the working directory.
DEFAULT_STORAGE = "sqlite:///skvaecf-studies.db"


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError("tune_recommender needs Optuna; install it with "
                          "`pip install skvaecf[optuna]`.") from exc
    return optuna


@dataclass
class TuningResult:
    """What :func:`tune_recommender` found.

    Attributes
    ----------
    study : optuna.Study
        The whole study, with every trial (complete, pruned or failed) and its per-epoch
        validation scores (``trial.intermediate_values``).
    best_params : dict
        Estimator parameters of the best trial, as passed to ``set_params``.
    best_score : float
        The best trial's validation score: the best over its epochs.
    best_epoch : int
        Epoch of that score (1 for models without ``partial_fit``).
    best_estimator : estimator or None
        A clone of the estimator with ``best_params``, trained on all of ``X`` for
        ``best_epoch`` epochs; ``None`` when ``refit=False``.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from skvaecf import EASERecommender, strong_generalization_split
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.tuning import tune_recommender
    >>> split = strong_generalization_split(make_interactions(200, 40, random_state=0).X,
    ...                                     20, 20, random_state=0)
    >>> result = tune_recommender(EASERecommender(device="cpu"), split.train,
    ...                           split.validation_data,
    ...                           {"l2": FloatDistribution(1.0, 100.0, log=True)},
    ...                           n_trials=2, storage=None, random_state=0)
    >>> [trial.state.name for trial in result.study.trials]
    ['COMPLETE', 'COMPLETE']
    >>> result.best_epoch, result.best_estimator.l2 == result.best_params["l2"]
    (1, True)
    """

    study: optuna.Study
    best_params: dict
    best_score: float
    best_epoch: int
    best_estimator: Any = None


def tune_recommender(estimator, X, validation_data, param_space, *, n_trials: int | None = 20,
                     timeout: float | None = None, metric: str = "ndcg@100",
                     storage: str | None = DEFAULT_STORAGE, study_name: str | None = None,
                     sampler=None, pruner=None, refit: bool = True,
                     random_state: int | None = None) -> TuningResult:
    """Search the parameters of a recommender with Optuna, pruning trials epoch by epoch.

    Each trial samples parameters, sets them on a clone of ``estimator`` and trains it on
    ``X``. A model with ``partial_fit`` is trained one epoch at a time, up to its ``epochs``
    parameter (stopping early after ``patience`` epochs without improvement, when that
    parameter is set); after every epoch ``metric`` is measured on the validation users and
    reported to Optuna, and the trial is stopped when the pruner says so. The trial's value
    is its best epoch's score. A model without ``partial_fit`` is fitted once and scored.

    Parameters
    ----------
    estimator : recommender
        The model to tune, with the fixed parameters set (for example ``device`` and
        ``random_state``). Its ``epochs`` parameter is the epoch budget of a trial.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the training users.
    validation_data : tuple (X_fold_in, X_held_out)
        Interactions of separate validation users, split into the part the model sees and
        the part it must rank (for example ``strong_generalization_split(...).validation_data``).
        Trials are compared on these users only.
    param_space : dict or callable
        Either a dict mapping parameter names to Optuna distributions (such as
        ``optuna.distributions.FloatDistribution(0.0, 1.0)``), or a callable taking an
        ``optuna.Trial`` and returning the dict of parameters to set, sampled with the
        trial's ``suggest_*`` methods. Use the callable for values Optuna cannot store,
        such as tuples: ``{"hidden_dims": (trial.suggest_int("width", 100, 600),)}``.
    n_trials : int or None, default=20
        Trials to run in this call (they add to those already in a resumed study); ``None``
        runs trials until ``timeout``. 0 runs none: the result is then read from the
        stored study.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    metric : str, default="ndcg@100"
        ``"ndcg@K"`` or ``"recall@K"`` on the validation users; higher is better.
    storage : str or None, default="sqlite:///skvaecf-studies.db"
        Optuna storage URL: a SQLite file (created in the working directory by default), a
        database URL such as ``"postgresql://user@host/db"`` shared by several machines, or
        ``None`` for a study kept in memory only.
    study_name : str or None, default=None
        Name of the study in the storage. An existing study of that name is resumed (its
        trials count in the search); ``None`` creates a new study with a generated name,
        logged and available as ``result.study.study_name``.
    sampler : optuna.samplers.BaseSampler, default=None
        Optuna's sampler; ``None`` uses ``TPESampler(seed=random_state)``.
    pruner : optuna.pruners.BasePruner, default=None
        Optuna's pruner; ``None`` uses ``MedianPruner(n_startup_trials=5,
        n_warmup_steps=5)``: from the sixth trial on, and from its fifth epoch on, a trial
        whose best score so far is below the median of the earlier trials at the same epoch
        is stopped. ``optuna.pruners.NopPruner()`` switches pruning off.
    refit : bool, default=True
        Train the best parameters on ``X`` for the best trial's best epoch and return the
        model as ``best_estimator``. With an integer ``random_state`` in the estimator, it
        is the model of the best trial at its best epoch.
    random_state : int or None, default=None
        Seed of the default sampler.

    Returns
    -------
    TuningResult
        The study, the best parameters, score and epoch, and the refitted model.

    Raises
    ------
    ValueError
        If ``param_space`` names a parameter the estimator does not have (sklearn's
        message), or if no trial completed.
    TypeError
        If ``param_space`` is neither a dict of distributions nor a callable, or
        ``estimator`` is not a recommender trained by ``fit`` or by epochs.

    Notes
    -----
    A trial whose training raises (for example because a sampled value is invalid for the
    estimator) is recorded as failed, with the error in its ``fail_reason`` user attribute
    and a logged warning, and the study goes on; an unknown parameter name stops the study,
    since every trial would fail. Pruned trials keep their per-epoch scores.

    To spread a search over several processes or machines, start this function in each of
    them with the same ``storage`` (a database server; SQLite suits one machine) and the
    same ``study_name``: they share the trials and the pruner compares them all. Run the
    refit once, for example with ``n_trials=0`` after the searches end.

    The validation users must be distinct from the users whose test figures are reported;
    :func:`skvaecf.model_selection.strong_generalization_split` gives both.

    References
    ----------
    .. [1] T. Akiba, S. Sano, T. Yanase, T. Ohta and M. Koyama, "Optuna: A Next-generation
       Hyperparameter Optimization Framework", KDD 2019.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from skvaecf import MultVAERecommender, strong_generalization_split
    >>> from skvaecf.tuning import tune_recommender
    >>> from skvaecf.datasets import make_interactions
    >>> split = strong_generalization_split(make_interactions(300, 50, random_state=0).X,
    ...                                     30, 30, random_state=0)
    >>> model = MultVAERecommender(hidden_dims=(16,), latent_dim=8, epochs=2,
    ...                            anneal_steps=0, device="cpu", random_state=0)
    >>> result = tune_recommender(model, split.train, split.validation_data,
    ...                           {"beta": FloatDistribution(0.0, 1.0)}, n_trials=3,
    ...                           storage=None, random_state=0)
    >>> len(result.study.trials), sorted(result.best_params)
    (3, ['beta'])
    >>> result.best_estimator.recommend(split.test_fold_in[:2], k=5).shape
    (2, 5)
    """
    optuna = _import_optuna()
    _parse_metric(metric)
    if not hasattr(estimator, "recommend"):
        raise TypeError("estimator must be a recommender of skvaecf (with a recommend "
                        f"method); got {type(estimator).__name__}.")
    if hasattr(estimator, "partial_fit") and "epochs" not in estimator.get_params():
        raise TypeError(f"{type(estimator).__name__} has partial_fit but no epochs parameter "
                        "to bound the epochs of a trial.")
    X = check_interactions(X)
    validation_data = _check_validation_pair(validation_data, X.shape[1])
    suggest = _parameter_sampler(estimator, param_space, optuna)

    study = optuna.create_study(
        storage=storage, study_name=study_name, direction="maximize", load_if_exists=True,
        sampler=sampler if sampler is not None else optuna.samplers.TPESampler(
            seed=random_state),
        pruner=pruner if pruner is not None else optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=5))
    logger.info("study %r in %s: %d trials already recorded", study.study_name,
                storage or "memory", len(study.trials))

    def objective(trial) -> float:
        model = clone(estimator).set_params(**suggest(trial))
        try:
            return _train_trial(model, trial, X, validation_data, metric, optuna)
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # a failed trial is recorded and the study goes on
            logger.warning("trial %d failed: %s: %s", trial.number, type(exc).__name__, exc)
            trial.set_user_attr("fail_reason", f"{type(exc).__name__}: {exc}")
            return math.nan

    if n_trials is None or n_trials > 0:
        study.optimize(objective, n_trials=n_trials, timeout=timeout)
    return _best_result(study, estimator, suggest, X, refit, metric, optuna)


def _check_validation_pair(validation_data, n_items: int):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError("validation_data must be a pair (X_fold_in, X_held_out) of users x "
                         "items matrices.")
    fold_in = check_interactions(validation_data[0], name="validation_data[0]")
    if fold_in.shape[1] != n_items:
        raise ValueError(f"validation_data has {fold_in.shape[1]} items but X has {n_items}; "
                         "they must share the item columns.")
    held_out = check_held_out(fold_in, validation_data[1], name="validation_data[1]")
    if held_out.nnz == 0:
        raise ValueError("validation_data[1] holds no interaction: there is nothing to rank "
                         "the trials by.")
    return fold_in, held_out


def _parameter_sampler(estimator, param_space, optuna) -> Callable[[Any], dict]:
    """A function ``trial -> parameters``, with the names of a dict space checked now."""
    if callable(param_space):
        return param_space
    if not isinstance(param_space, Mapping):
        raise TypeError("param_space must be a dict of Optuna distributions or a callable "
                        f"taking a trial; got {type(param_space).__name__}.")

    distributions = optuna.distributions
    for name, distribution in param_space.items():
        if not isinstance(distribution, distributions.BaseDistribution):
            raise TypeError(f"param_space[{name!r}] must be an Optuna distribution (such as "
                            f"optuna.distributions.FloatDistribution); got {distribution!r}.")
    # set_params on a throw-away clone raises sklearn's error for unknown names.
    clone(estimator).set_params(**dict.fromkeys(param_space))

    def sample(trial) -> dict:
        return {name: _suggest(trial, name, distribution, distributions)
                for name, distribution in param_space.items()}
    return sample


def _suggest(trial, name: str, distribution, distributions):
    if isinstance(distribution, distributions.FloatDistribution):
        return trial.suggest_float(name, distribution.low, distribution.high,
                                   step=distribution.step, log=distribution.log)
    if isinstance(distribution, distributions.IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high,
                                 step=distribution.step, log=distribution.log)
    if isinstance(distribution, distributions.CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    raise TypeError(f"unsupported Optuna distribution for {name!r}: {distribution!r}.")


def _train_trial(model, trial, X, validation_data, metric: str, optuna) -> float:
    """Train one trial's model, reporting the validation score after every epoch."""
    if not hasattr(model, "partial_fit"):
        score = _validation_score(model.fit(X), validation_data, metric)
        trial.report(score, 1)
        trial.set_user_attr("best_epoch", 1)
        return score

    patience = model.get_params().get("patience")
    best_score, best_epoch = -math.inf, 0
    for epoch in range(1, model.epochs + 1):
        score = _validation_score(model.partial_fit(X), validation_data, metric)
        trial.report(score, epoch)
        if score > best_score:
            best_score, best_epoch = score, epoch
        trial.set_user_attr("best_epoch", best_epoch)

        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch} ({metric} = {score:.4f})")
        if patience is not None and epoch - best_epoch >= patience:
            break
    return best_score


def _validation_score(model, validation_data, metric: str) -> float:
    return evaluate_recommender(model, *validation_data, [metric])[metric]


def _best_result(study, estimator, suggest, X, refit: bool, metric: str,
                 optuna) -> TuningResult:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        failures = [t.user_attrs.get("fail_reason") for t in study.trials
                    if t.state == optuna.trial.TrialState.FAIL]
        reason = f" First failure: {failures[0]}" if failures and failures[0] else ""
        raise ValueError(f"No trial of study {study.study_name!r} completed "
                         f"({len(study.trials)} trials).{reason}")

    best = study.best_trial
    # Replaying the space on the best trial's values gives the parameters it set, even
    # when a callable space turns sampled values into others (such as tuples).
    params = suggest(optuna.trial.FixedTrial(best.params, best.number))
    best_epoch = int(best.user_attrs.get("best_epoch", 1))
    logger.info("best trial %d: validation %s = %.4f at epoch %d with %s", best.number,
                metric, best.value, best_epoch, params)

    model = None
    if refit:
        model = clone(estimator).set_params(**params)
        if hasattr(model, "partial_fit"):
            for _ in range(best_epoch):
                model.partial_fit(X)
        else:
            model.fit(X)
    return TuningResult(study=study, best_params=params, best_score=float(best.value),
                        best_epoch=best_epoch, best_estimator=model)
