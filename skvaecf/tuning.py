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
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sklearn.base import clone

from skvaecf._validation import check_held_out, check_interactions
from skvaecf.metrics import _parse_metric, evaluate_recommender

if TYPE_CHECKING:
    import optuna

__all__ = ["TrialFailedError", "TuningResult", "tune_recommender"]

logger = logging.getLogger(__name__)

#: Storage used when none is given: a SQLite file in the working directory.
DEFAULT_STORAGE = "sqlite:///skvaecf-studies.db"

#: User attribute of a study recording what it searches: metric, estimator class and the
#: names of the searched parameters. A resumed study must search the same.
SEARCH_ATTRIBUTE = "skvaecf_search"


def _import_optuna():
    try:
        import optuna
    except ImportError as exc:
        raise ImportError("tune_recommender needs Optuna; install it with "
                          "`pip install skvaecf[optuna]`.") from exc
    return optuna


class TrialFailedError(RuntimeError):
    """The training of one trial raised; the message is the original error's.

    :func:`tune_recommender` lets Optuna catch it, so that the trial is recorded as failed
    (with the error in Optuna's warning and in the trial's ``fail_reason`` user attribute)
    and the study goes on.

    Examples
    --------
    >>> from skvaecf.tuning import TrialFailedError
    >>> str(TrialFailedError("ValueError: dropout must be below 1"))
    'ValueError: dropout must be below 1'
    """


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
        ``best_epoch`` epochs; ``None`` when ``refit=False``. For a model trained by epochs
        its ``epochs`` parameter is set to ``best_epoch`` and its ``validation_fraction``
        (if it has one) to ``None``, so that its parameters say how it was trained:
        ``clone(best_estimator).fit(X)`` trains the same model again (with an integer
        ``random_state``, on the CPU), and so does ``fit(X, validation_data=...)`` with the
        validation users of the search when ``metric`` is ``"ndcg@100"``, the metric by
        which ``fit`` keeps its best epoch.

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
    n_trials : int >= 0 or None, default=20
        Trials to run in this call (they add to those already in a resumed study); ``None``
        runs trials until ``timeout`` (with ``timeout=None`` too, until the process is
        interrupted, as Optuna does). 0 runs none: the result is then read from the
        stored study, which must hold a completed trial.
    timeout : float > 0 or None, default=None
        Stop starting new trials after this many seconds.
    metric : str, default="ndcg@100"
        ``"ndcg@K"`` or ``"recall@K"`` on the validation users; higher is better.
    storage : str or None, default="sqlite:///skvaecf-studies.db"
        Optuna storage URL: a SQLite file (created in the working directory by default), a
        database URL such as ``"postgresql://user@host/db"`` shared by several machines, or
        ``None`` for a study kept in memory only.
    study_name : str or None, default=None
        Name of the study in the storage. An existing study of that name is resumed (its
        trials count in the search) if it was made for the same ``metric``, estimator class
        and parameter names; ``None`` creates a new study with a generated name, logged and
        available as ``result.study.study_name``.
    sampler : optuna.samplers.BaseSampler, default=None
        Optuna's sampler; ``None`` uses ``TPESampler(seed=random_state)``.
    pruner : optuna.pruners.BasePruner, default=None
        Optuna's pruner; ``None`` uses ``MedianPruner(n_startup_trials=5,
        n_warmup_steps=5)``: from the sixth trial on, and from its fifth epoch on, a trial
        whose best score so far is below the median of the earlier trials at the same epoch
        is stopped. ``optuna.pruners.NopPruner()`` switches pruning off.
    refit : bool, default=True
        Train the best parameters on ``X`` for the best trial's best epoch and return the
        model as ``best_estimator``, with ``epochs`` set to that epoch (see
        :class:`TuningResult`). With an integer ``random_state`` in the estimator, it is the
        model of the best trial at its best epoch.
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
        message), if a parameter fixed in ``estimator`` has an invalid value, if
        ``n_trials`` or ``timeout`` is not a valid budget, if the resumed study was made
        for another metric, estimator class or set of parameters (before any trial runs),
        or if no trial completed.
    TypeError
        If ``param_space`` is neither a dict of distributions nor a callable, or
        ``estimator`` is not a recommender trained by ``fit`` or by epochs.

    Notes
    -----
    A trial whose training raises (for example because a sampled value is invalid for the
    estimator) is recorded as failed, with the error in its ``fail_reason`` user attribute
    and in Optuna's warning about the failed trial, and the study goes on; an unknown
    parameter name stops the study, since every trial would fail. Pruned trials keep their
    per-epoch scores.

    A new study records what it searches in its ``"skvaecf_search"`` user attribute: the
    metric, the estimator's class name and the sorted names of the parameters that
    ``param_space`` sets. Resuming it with other ones raises, since trials scored by
    another metric or set on other parameters cannot be compared, nor replayed for the
    refit. A callable ``param_space`` is called once on a throw-away trial before the
    search, to learn the names of the parameters it sets.

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
    kind, k = _parse_metric(metric)
    metric = f"{kind}@{k}"
    n_trials = _check_n_trials(n_trials)
    _check_timeout(timeout)
    if not hasattr(estimator, "recommend"):
        raise TypeError("estimator must be a recommender of skvaecf (with a recommend "
                        f"method); got {type(estimator).__name__}.")
    if hasattr(estimator, "partial_fit") and "epochs" not in estimator.get_params():
        raise TypeError(f"{type(estimator).__name__} has partial_fit but no epochs parameter "
                        "to bound the epochs of a trial.")
    if hasattr(estimator, "_validate_params"):
        estimator._validate_params()  # a fixed invalid value would fail every trial
    X = check_interactions(X)
    validation_data = _check_validation_pair(validation_data, X.shape[1])
    suggest, param_names = _parameter_sampler(estimator, param_space, optuna)
    search = {"metric": metric, "estimator": type(estimator).__name__,
              "param_names": param_names}

    study = optuna.create_study(
        storage=storage, study_name=study_name, direction="maximize", load_if_exists=True,
        sampler=sampler if sampler is not None else optuna.samplers.TPESampler(
            seed=random_state),
        pruner=pruner if pruner is not None else optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=5))
    _check_study_search(study, search)
    logger.info("study %r in %s: %d trials already recorded", study.study_name,
                storage or "memory", len(study.trials))
    if n_trials == 0:
        _check_something_to_read(study, optuna)

    def objective(trial) -> float:
        model = clone(estimator).set_params(**suggest(trial))
        try:
            return _train_trial(model, trial, X, validation_data, metric, optuna)
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed trial is recorded, the study goes on
            reason = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("fail_reason", reason)
            # Optuna logs a caught exception with the trial's parameters, where users see it.
            raise TrialFailedError(reason) from exc

    if n_trials != 0:
        study.optimize(objective, n_trials=n_trials, timeout=timeout,
                       catch=(TrialFailedError,))
    return _best_result(study, estimator, suggest, X, refit, metric, optuna)


def _check_n_trials(n_trials) -> int | None:
    if n_trials is None:
        return None
    if (isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral)
            or n_trials < 0):
        raise ValueError("n_trials must be an integer >= 0 (0 reads the result of a stored "
                         f"study) or None (run until timeout); got {n_trials!r}.")
    return int(n_trials)


def _check_timeout(timeout) -> None:
    if timeout is None:
        return
    if (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real)
            or not timeout > 0):
        raise ValueError("timeout must be a number of seconds > 0, or None; got "
                         f"{timeout!r}.")


def _check_study_search(study, search: dict) -> None:
    """Record what a study searches; refuse to resume one whose trials searched another.

    A study without trials takes the new record: it holds nothing to mix up.
    """
    recorded = study.user_attrs.get(SEARCH_ATTRIBUTE)
    if recorded is not None and study.trials:
        differences = [f"{key} {recorded.get(key)!r} in the study, {value!r} now"
                       for key, value in search.items() if recorded.get(key) != value]
        if differences:
            raise ValueError(f"study {study.study_name!r} was made for another search: "
                             f"{'; '.join(differences)}. Resume it with the same metric, "
                             "estimator class and parameters, or pass another study_name.")
    elif recorded is None and study.trials:
        logger.warning("study %r has %d trials but no record of its metric, estimator and "
                       "parameters: they cannot be checked against this search",
                       study.study_name, len(study.trials))

    if recorded != search:
        study.set_user_attr(SEARCH_ATTRIBUTE, search)


def _check_something_to_read(study, optuna) -> None:
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ValueError(f"n_trials=0 runs no trial, and study {study.study_name!r} has no "
                         f"completed trial to read the result from ({len(study.trials)} "
                         "trials); give n_trials >= 1 or the name of a finished study.")


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


def _parameter_sampler(estimator, param_space,
                       optuna) -> tuple[Callable[[Any], dict], list[str]]:
    """A function ``trial -> parameters`` and the sorted names it sets, checked now."""
    if callable(param_space):
        names = _names_of_callable_space(param_space, optuna)
        clone(estimator).set_params(**dict.fromkeys(names))
        return param_space, names
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
    return sample, sorted(param_space)


def _names_of_callable_space(param_space, optuna) -> list[str]:
    """Names of the parameters a callable space sets, from a trial of a throw-away study."""
    storage = optuna.storages.InMemoryStorage()
    storage.create_new_study([optuna.study.StudyDirection.MAXIMIZE], "skvaecf-probe")
    probe = optuna.Study(study_name="skvaecf-probe", storage=storage,
                         sampler=optuna.samplers.RandomSampler(seed=0))
    params = param_space(probe.ask())
    if not isinstance(params, Mapping):
        raise TypeError("a callable param_space must return a dict of parameters to set; "
                        f"got {type(params).__name__}.")
    return sorted(params)


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
    params = _replay(suggest, best, study.study_name, optuna)
    best_epoch = int(best.user_attrs.get("best_epoch", 1))
    logger.info("best trial %d: validation %s = %.4f at epoch %d with %s", best.number,
                metric, best.value, best_epoch, params)

    model = None
    if refit:
        model = clone(estimator).set_params(**params)
        if hasattr(model, "partial_fit"):
            model.set_params(**_trained_by_partial_fit(model, best_epoch))
            for _ in range(best_epoch):
                model.partial_fit(X)
        else:
            model.fit(X)
    return TuningResult(study=study, best_params=params, best_score=float(best.value),
                        best_epoch=best_epoch, best_estimator=model)


def _replay(suggest, trial, study_name: str, optuna) -> dict:
    """The parameters a trial set, from the space replayed on its sampled values.

    Replaying gives them even when a callable space turns sampled values into others (such
    as tuples).
    """
    try:
        return suggest(optuna.trial.FixedTrial(trial.params, trial.number))
    except ValueError as exc:
        raise ValueError(f"param_space cannot replay trial {trial.number} of study "
                         f"{study_name!r}, sampled as {trial.params}: {exc} Resume a study "
                         "with the space that made it.") from exc


def _trained_by_partial_fit(model, n_epochs: int) -> dict:
    """Parameters under which ``fit`` trains what ``n_epochs`` calls of ``partial_fit`` do.

    ``partial_fit`` trains on all the users it is given, for as many epochs as it is
    called; ``fit`` trains for ``epochs`` and, without ``validation_data``, sets
    ``validation_fraction`` of the users aside.
    """
    params = {"epochs": n_epochs}
    if "validation_fraction" in model.get_params():
        params["validation_fraction"] = None
    return params
