"""Running the benchmark: every model on the same split, with accuracy and cost measured.

For each model and seed: every candidate of the model's grid is fitted on the training users
(VAE models keep their best epoch on the validation users) and scored by NDCG@100 on the
validation users; the best candidate is evaluated on the test users. Fit time, time per
epoch, peak memory and ranking throughput are measured on that candidate.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from sklearn.model_selection import ParameterGrid

from skvaecf._device import resolve_device
from skvaecf.benchmark.config import BenchmarkConfig
from skvaecf.benchmark.data import BenchmarkData, load_benchmark_data, split_benchmark_data
from skvaecf.benchmark.environment import describe_environment
from skvaecf.benchmark.measure import PeakMemory
from skvaecf.benchmark.registry import (KNOWN_MODELS, ModelSpec, ModelUnavailableError,
                                        available_models, get_model_spec)
from skvaecf.datasets import make_interactions
from skvaecf.metrics import _parse_metric, evaluate_recommender
from skvaecf.models import ALSRecommender, EASERecommender, MultVAERecommender

logger = logging.getLogger(__name__)

__all__ = ["SELECTION_METRIC", "BenchmarkReport", "run_benchmark", "select_models"]

#: Metric on the validation users that chooses epochs and grid candidates.
SELECTION_METRIC = "ndcg@100"

#: Fraction of the training steps after which the annealed KL weight reaches its cap.
ANNEAL_FRACTION = 0.8

_MIB = 2**20

#: Fewer test users than this (with held-out items) gives a warning: noisy test figures.
MIN_TEST_USERS = 50


@dataclass
class BenchmarkReport:
    """Everything a run produced; what is written to ``results.json``.

    Attributes
    ----------
    settings : dict
        The configuration, with the defaults it resolved to (epochs, held-out users,
        device).
    environment : dict
        Machine and library versions.
    dataset : dict
        Sizes and preprocessing of the data, and the size of the split.
    models : list of dict
        One entry per finished (or failed) model, in the order they ran: ``model``,
        ``estimator``, ``status`` and, when finished, per-seed ``seeds`` records and a
        ``summary`` (means over seeds, and standard deviations of the test metrics).
    interrupted : bool
        The run was stopped (Ctrl-C) before all models finished.
    started, finished : str
        Local times.

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig, run_benchmark
    >>> report = run_benchmark(BenchmarkConfig(synthetic_users=300, synthetic_items=40,
    ...                                        models=["popularity"]))
    >>> report.interrupted, report.dataset["n_items"], sorted(report.to_dict())[:3]
    (False, 36, ['dataset', 'environment', 'finished'])
    """

    settings: dict
    environment: dict
    dataset: dict = field(default_factory=dict)
    models: list = field(default_factory=list)
    interrupted: bool = False
    started: str = ""
    finished: str | None = None

    def to_dict(self) -> dict:
        """A JSON-serialisable copy."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class _RunContext:
    """What the run decides for every model: budget, device, seed, progress display."""

    epochs: int
    device: str
    seed: int
    progress: bool
    n_train_users: int


def _estimator_params(spec: ModelSpec, estimator_class: type, context: _RunContext,
                      overrides: dict) -> dict:
    """The parameters the benchmark gives one model (before its grid candidates).

    The spec's parameters come first, then the run's epochs, device, seed and progress bar
    for estimators that have such parameters, then the user's ``overrides``. A VAE's
    ``anneal_steps`` not set by the user is chosen so that the KL weight reaches its cap
    ``beta`` after :data:`ANNEAL_FRACTION` of the training steps.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    estimator_class : type
        Its class.
    context : _RunContext
        Epochs, device, seed, progress and number of training users of the run.
    overrides : dict
        Parameters set by the user.

    Returns
    -------
    dict
    """
    accepted = estimator_class().get_params()
    params = dict(spec.params)
    from_run = {"epochs": context.epochs, "device": context.device,
                "random_state": context.seed, "verbose": context.progress}
    params.update({name: value for name, value in from_run.items() if name in accepted})
    params.update(overrides)

    if "anneal_steps" in accepted and "anneal_steps" not in overrides:
        settings = {**accepted, **params}
        steps_per_epoch = math.ceil(context.n_train_users / settings["batch_size"])
        total_steps = settings["epochs"] * steps_per_epoch
        # MultVAEObjective.beta_at: beta_t = min(beta, t / anneal_steps), so the cap is
        # reached at step beta * anneal_steps.
        if settings["beta"] > 0:
            params["anneal_steps"] = max(1, round(ANNEAL_FRACTION * total_steps
                                                  / settings["beta"]))
    return params


def run_benchmark(config: BenchmarkConfig, *,
                  on_model_finished: Callable[[BenchmarkReport], None] | None = None
                  ) -> BenchmarkReport:
    """Train and compare the models of ``config`` on its dataset.

    Parameters
    ----------
    config : BenchmarkConfig
        What to run.
    on_model_finished : callable or None, default=None
        Called with the report after each model (for example to write the results so
        far, as the command line does).

    Returns
    -------
    BenchmarkReport
        With ``interrupted=True`` and the models finished so far if the run was stopped
        by Ctrl-C (KeyboardInterrupt), which is not raised further.

    Raises
    ------
    ValueError
        If a setting is invalid, a model is unknown, or a parameter is not one of the
        model's.
    ModelUnavailableError
        If a model that was asked for cannot be imported.

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig, run_benchmark
    >>> config = BenchmarkConfig(synthetic_users=300, synthetic_items=40,
    ...                          models=["popularity"])
    >>> report = run_benchmark(config)
    >>> report.models[0]["status"], sorted(report.models[0]["summary"]["test"])
    ('finished', ['ndcg@100', 'recall@20', 'recall@50'])
    """
    config.check()
    specs = select_models(config)
    device = resolve_device(config.device)
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    report = BenchmarkReport(settings=_jsonable(asdict(config)),
                             environment=describe_environment(device),
                             started=time.strftime("%Y-%m-%d %H:%M:%S"))
    report.settings["device"] = str(device)
    report.settings["models"] = [spec.name for spec in specs]

    try:
        data = load_benchmark_data(config)
        epochs = config.epochs or data.info.epochs
        report.settings["epochs"] = epochs
        report.dataset = data.describe()

        # Every seed's split has the same sizes: one that cannot be made fails here, as a
        # data error, not once per model.
        splits = {0: split_benchmark_data(data, config.n_validation_users,
                                          config.n_test_users, 0)}
        report.dataset["split"] = _describe_split(splits[0])
        _warn_about_weak_evaluation(splits[0], config.metrics)
        _warm_up(str(device))

        for position, spec in enumerate(specs, start=1):
            label = f"[{position}/{len(specs)}] {spec.name}"
            report.models.append(_run_model(spec, data, splits, config, epochs, str(device),
                                            label, report))
            if on_model_finished is not None:
                on_model_finished(report)
    except KeyboardInterrupt:
        report.interrupted = True
        logger.warning("interrupted: keeping the results of the %d finished model(s)",
                       len(report.models))
    finally:
        torch.set_num_threads(threads)

    report.finished = time.strftime("%Y-%m-%d %H:%M:%S")
    return report


def select_models(config: BenchmarkConfig) -> list[ModelSpec]:
    """The models a configuration runs, with its parameters checked against them.

    Parameters
    ----------
    config : BenchmarkConfig
        Uses ``models``, ``params`` and ``grid``. Settings for a model that is not run are
        ignored.

    Returns
    -------
    list of ModelSpec
        In the order given, or every available model when ``config.models`` is None.

    Raises
    ------
    ValueError
        If a model name is unknown, or a parameter is not one of the model's.
    ModelUnavailableError
        If a model asked for cannot be imported.

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig
    >>> from skvaecf.benchmark.runner import select_models
    >>> [spec.class_name for spec in select_models(BenchmarkConfig(models=["ease"]))]
    ['EASERecommender']
    """
    if config.models is None:
        specs = list(available_models().values())
        missing = sorted(set(KNOWN_MODELS) - {spec.name for spec in specs})
        if missing:
            logger.warning("models not available in this installation, skipped: %s",
                           ", ".join(missing))
    else:
        specs = [get_model_spec(name) for name in config.models]

    for table_name in ("params", "grid"):
        for name in getattr(config, table_name):
            get_model_spec(name)
    for spec in specs:
        _check_parameter_names(spec, config)
        _check_parameter_values(spec, config)
    return specs


def _check_parameter_names(spec: ModelSpec, config: BenchmarkConfig) -> None:
    accepted = spec.estimator_class()().get_params()
    user_params = {**_settings_for(config.params, spec), **_settings_for(config.grid, spec)}
    unknown = sorted(set(user_params) - set(accepted))
    if unknown:
        raise ValueError(f"model {spec.name!r} has no parameter {', '.join(unknown)}; its "
                         f"parameters are {', '.join(sorted(accepted))}")
    for name, values in _settings_for(config.grid, spec).items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"grid of {spec.name!r}: {name} must be a non-empty list of "
                             f"candidates, got {values!r}")


def _check_parameter_values(spec: ModelSpec, config: BenchmarkConfig) -> None:
    """Refuse, before any data is read, a value the estimator would reject at ``fit``."""
    estimator_class = spec.estimator_class()
    params = _settings_for(config.params, spec)
    for candidate in ParameterGrid(_settings_for(config.grid, spec)):
        try:
            estimator_class(**{**params, **candidate})._validate_params()
        except ValueError as error:  # sklearn's InvalidParameterError is a ValueError
            raise ValueError(f"model {spec.name!r}: {error}") from error


def _warn_about_weak_evaluation(split, metrics) -> None:
    """Warn when test figures mean little: few test users, or a recall@k with k >= n_items."""
    n_test_users = int(np.count_nonzero(split.test_held_out.getnnz(axis=1)))
    if n_test_users < MIN_TEST_USERS:
        logger.warning("only %d test users have held-out items: the test metrics will vary "
                       "a lot from one split to another", n_test_users)

    n_items = split.train.shape[1]
    trivial = [name for name, (kind, k) in zip(metrics, map(_parse_metric, metrics))
               if kind == "recall" and k >= n_items]
    if trivial:
        logger.warning("%s cover(s) the whole catalogue of %d items: the recall is 1 "
                       "whatever the model", ", ".join(trivial), n_items)


def _warm_up(device: str) -> None:
    """Fit tiny models once, so that torch's start-up is not charged to the first model.

    The first use of torch in a process loads its kernel libraries and starts its thread
    pools (about 100 MiB and a second on a CPU); without this, whichever model ran first
    would carry that cost in its fit time and peak memory.
    """
    X = make_interactions(60, 20, random_state=0).X
    tiny = [MultVAERecommender(hidden_dims=(8,), latent_dim=2, epochs=1,
                               validation_fraction=None, device=device, random_state=0),
            ALSRecommender(factors=2, iterations=1, device=device, random_state=0),
            EASERecommender(device=device)]
    for model in tiny:
        model.fit(X).recommend(X, k=5)


def _settings_for(table: dict, spec: ModelSpec) -> dict:
    """The entry of a ``params`` or ``grid`` table for one model (names in any case)."""
    merged = {}
    for name, settings in table.items():
        if name.lower() == spec.name:
            merged.update(settings)
    return merged


def _model_grid(spec: ModelSpec, config: BenchmarkConfig) -> dict:
    if any(name.lower() == spec.name for name in config.grid):
        return _settings_for(config.grid, spec)
    accepted = spec.estimator_class()().get_params()
    grid = {name: values for name, values in spec.grid.items() if name in accepted}
    dropped = sorted(set(spec.grid) - set(grid))
    if dropped:
        logger.warning("%s has no parameter %s: not tuned", spec.class_name,
                       ", ".join(dropped))
    # A parameter the user fixed is not tuned.
    return {name: values for name, values in grid.items()
            if name not in _settings_for(config.params, spec)}


def _model_note(spec: ModelSpec, config: BenchmarkConfig) -> str:
    """How the model's parameters were set in this run, for the report.

    The spec's note, then the grid parameters with several candidates ("chosen on
    validation"), then the values the user gave, as parameters or as a grid of one
    candidate ("fixed by the user").

    Parameters
    ----------
    spec : ModelSpec
        The model.
    config : BenchmarkConfig
        The run's ``params`` and ``grid``.

    Returns
    -------
    str
    """
    user_grid = any(name.lower() == spec.name for name in config.grid)
    grid = _model_grid(spec, config)
    tuned = [name for name, values in grid.items() if len(values) > 1]
    single = {name: values[0] for name, values in grid.items() if len(values) == 1}
    # A grid candidate replaces a parameter of the same name.
    by_user = {name: value for name, value in _settings_for(config.params, spec).items()
               if name not in grid}
    if user_grid:
        by_user.update(single)

    notes = [spec.note] if spec.note else []
    if tuned:
        notes.append(f"{', '.join(tuned)} chosen on validation {SELECTION_METRIC.upper()}")
    if single and not user_grid:
        notes.append(", ".join(f"{name}={value!r}" for name, value in single.items()))
    if by_user:
        notes.append("fixed by the user: " + ", ".join(
            _user_setting(spec, name, value) for name, value in by_user.items()))
    return "; ".join(notes)


def _user_setting(spec: ModelSpec, name: str, value) -> str:
    """``name=value``, with the value it replaces when the benchmark sets one."""
    if name in spec.params:
        return f"{name}={value!r} (benchmark: {spec.params[name]!r})"
    return f"{name}={value!r}"


def _run_model(spec: ModelSpec, data: BenchmarkData, splits: dict, config: BenchmarkConfig,
               epochs: int, device: str, label: str, report: BenchmarkReport) -> dict:
    record = {"model": spec.name, "estimator": spec.class_name,
              "note": _model_note(spec, config)}
    started = time.perf_counter()
    try:
        seeds = []
        for seed in range(config.seeds):
            if seed not in splits:
                splits[seed] = split_benchmark_data(data, config.n_validation_users,
                                                    config.n_test_users, seed)
            context = _RunContext(epochs, device, seed, config.progress,
                                  splits[seed].train.shape[0])
            seeds.append(_run_seed(spec, splits[seed], config, context, label))
    except (ModelUnavailableError, KeyboardInterrupt):
        raise
    except Exception as error:  # one failing model must not lose the others' results
        logger.exception("%s failed", label)
        record.update(status="failed", error=f"{type(error).__name__}: {error}")
        return record

    record.update(status="finished", seeds=seeds, summary=_summarise(seeds),
                  seconds=time.perf_counter() - started)
    summary = record["summary"]
    logger.info("%s finished in %.1f s: %s; fit %.2f s", label, record["seconds"],
                ", ".join(f"{name} {value:.4f}" for name, value in summary["test"].items()),
                summary["fit_seconds"])
    return record


def _describe_split(split) -> dict:
    return {"n_train_users": split.train.shape[0],
            "n_validation_users": split.validation_fold_in.shape[0],
            "n_test_users": split.test_fold_in.shape[0],
            "n_items": split.train.shape[1],
            "n_train_interactions": int(split.train.nnz)}


def _run_seed(spec: ModelSpec, split, config: BenchmarkConfig, context: _RunContext,
              label: str) -> dict:
    estimator_class = spec.estimator_class()
    base = _estimator_params(spec, estimator_class, context,
                             _settings_for(config.params, spec))
    candidates = list(ParameterGrid(_model_grid(spec, config)))

    best, tuning = None, []
    for number, candidate in enumerate(candidates, start=1):
        logger.info("%s (%s), seed %d%s: fitting on %d users x %d items", label,
                    spec.class_name, context.seed,
                    f", candidate {number}/{len(candidates)} {candidate}" if candidate else "",
                    split.train.shape[0], split.train.shape[1])
        fitted = _fit_and_validate(estimator_class(**{**base, **candidate}), split,
                                   context.device)
        tuning.append({"params": candidate, **{key: fitted[key] for key in
                       (f"validation_{SELECTION_METRIC}", "fit_seconds")}})
        if best is None or (fitted[f"validation_{SELECTION_METRIC}"]
                            > best[f"validation_{SELECTION_METRIC}"]):
            best = fitted
        fitted = None  # frees a losing candidate before the next one is fitted
        gc.collect()

    estimator = best.pop("estimator")
    result = {"seed": context.seed, "params": estimator.get_params(), **best,
              **_evaluate(estimator, split, config.metrics)}
    if len(candidates) > 1:
        result["tuning"] = tuning
        result["tuning_seconds"] = sum(entry["fit_seconds"] for entry in tuning)
    return result


def _fit_and_validate(estimator, split, device: str) -> dict:
    """Fit on the training users, measuring time and memory; score the validation users."""
    with PeakMemory(device) as peak:
        started, cpu_started = time.perf_counter(), time.process_time()
        estimator.fit(split.train, validation_data=split.validation_data)
        fit_seconds = time.perf_counter() - started
        fit_cpu_seconds = time.process_time() - cpu_started

    validation = evaluate_recommender(estimator, *split.validation_data, [SELECTION_METRIC])
    # CPU time (all threads) next to wall time: on a shared machine the wall time also
    # counts the time other processes held the cores.
    result = {"estimator": estimator, "fit_seconds": fit_seconds,
              "fit_cpu_seconds": fit_cpu_seconds,
              f"validation_{SELECTION_METRIC}": validation[SELECTION_METRIC],
              "peak_host_mib": None if peak.host_bytes is None else peak.host_bytes / _MIB,
              "peak_gpu_mib": None if peak.gpu_bytes is None else peak.gpu_bytes / _MIB,
              "device": getattr(estimator, "device_", "cpu")}

    history = getattr(estimator, "history_", None)
    if history and history.get("seconds"):
        result.update(epochs_run=len(history["seconds"]),
                      best_epoch=getattr(estimator, "best_epoch_", None),
                      seconds_per_epoch=float(np.median(history["seconds"])),
                      validation_curve=history.get(f"val_{SELECTION_METRIC}", []))
    return result


def _evaluate(estimator, split, metrics) -> dict:
    """Test metrics, then the ranking throughput (a second, timed ranking of the users)."""
    test = evaluate_recommender(estimator, split.test_fold_in, split.test_held_out, metrics)

    k = min(100, split.test_fold_in.shape[1])
    started = time.perf_counter()
    estimator.recommend(split.test_fold_in, k=k)
    seconds = time.perf_counter() - started
    n_users = split.test_fold_in.shape[0]
    return {"test": test, "predict_seconds": seconds, "n_test_users": n_users,
            "users_per_second": n_users / seconds if seconds > 0 else math.inf}


def _summarise(seeds: list[dict]) -> dict:
    """Means over seeds of the numeric measurements; standard deviations of test metrics."""
    summary = {"test": {name: float(np.mean([s["test"][name] for s in seeds]))
                        for name in seeds[0]["test"]}}
    if len(seeds) > 1:
        summary["test_std"] = {name: float(np.std([s["test"][name] for s in seeds], ddof=1))
                               for name in seeds[0]["test"]}

    numeric = ["fit_seconds", "fit_cpu_seconds", "seconds_per_epoch", "users_per_second",
               "peak_host_mib", "peak_gpu_mib", f"validation_{SELECTION_METRIC}", "epochs_run",
               "best_epoch", "tuning_seconds"]
    for name in numeric:
        values = [s[name] for s in seeds if s.get(name) is not None]
        if values:
            summary[name] = float(np.mean(values))
    return summary


def _jsonable(value):
    """Turn tuples, numpy scalars, devices and other objects into JSON values (NaN: null)."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.device):
        return str(value)
    return repr(value)
