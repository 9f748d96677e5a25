"""The settings of a benchmark run, and reading them from a TOML file.

A run is described by one :class:`BenchmarkConfig`. The command line builds it from its
options, optionally starting from a TOML file (``skvaecf benchmark --config FILE``) whose
top-level keys are the field names below, plus ``[params.MODEL]`` tables of estimator
parameters and ``[grid.MODEL]`` tables of candidate values chosen on the validation users::

    dataset = "ml-20m"
    n_validation_users = 10000
    n_test_users = 10000
    models = ["multvae", "ease"]

    [params.multvae]
    anneal_steps = 200000

    [grid.ease]
    l2 = [200.0, 500.0, 1000.0]
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_METRICS", "SYNTHETIC_SIZE", "BenchmarkConfig", "read_config_file"]

#: Test metrics reported by default: those of the Mult-VAE paper's tables.
DEFAULT_METRICS = ("recall@20", "recall@50", "ndcg@100")

#: Users and items of the embedded synthetic data set, sized so that the default run of all
#: models takes about a minute on two CPU cores.
SYNTHETIC_SIZE = (2000, 300)

_METRIC_PATTERN = re.compile(r"^(recall|ndcg)@[1-9][0-9]*$")


@dataclass
class BenchmarkConfig:
    """What to run: data, protocol, models, budget and where to write the results.

    Parameters
    ----------
    dataset : str, default="synthetic"
        ``"synthetic"``, a dataset name (``"ml-1m"``, ``"ml-20m"``, ``"netflix"``,
        ``"msd"``...; see :data:`skvaecf.benchmark.data.DATASETS`) or a path to a file or
        folder.
    format : str or None, default=None
        Layout of a local ``dataset`` path (``"movielens"``, ``"netflix"``, ``"msd"``,
        ``"lastfm"``, ``"lists"``, ``"csv"``); None guesses it from the file names.
    data_home : str or None, default=None
        Cache folder of downloaded datasets (see :func:`skvaecf.datasets.get_data_home`).
    download : bool, default=True
        Download a named dataset that is not in the cache.
    synthetic_users, synthetic_items : int
        Size of the synthetic data set.
    min_rating : float, default=4.0
        Ratings at or above it become interactions (data with ratings only).
    min_user_interactions : int or None, default=None
        Users with fewer interactions are removed; None uses the dataset's published value
        (5, or 20 for MSD).
    min_item_users : int or None, default=None
        Items with fewer users are removed first; None uses the dataset's published value
        (0, or 200 for MSD).
    n_validation_users, n_test_users : int, float or None, default=None
        Held-out users (a count, or a fraction of all users); None uses the dataset's
        published counts, or 10 % each.
    models : list of str or None, default=None
        Command-line names of the models; None runs every available model.
    params : dict, default={}
        Model name to estimator parameters that replace the benchmark's defaults.
    grid : dict, default={}
        Model name to ``{parameter: [candidates]}`` chosen on validation NDCG@100
        (replaces the model's default grid; ``{}`` disables it).
    metrics : tuple of str, default=("recall@20", "recall@50", "ndcg@100")
        Test metrics.
    epochs : int or None, default=None
        Epochs of the VAE models; None uses the dataset's default (200, the paper's, or 30
        on synthetic data).
    seeds : int, default=1
        Number of repetitions, with seeds 0, 1, ...; each seed draws its own split of
        users and its own initialisation.
    device : str, default="auto"
        Torch device of the models that take one.
    threads : int or None, default=None
        Torch CPU threads during the run (restored afterwards); None keeps torch's
        setting. One thread gives steadier timings on a CPU shared with other jobs.
    output_dir : str or None, default=None
        Folder of the results; None uses ``skvaecf-benchmark/<dataset>``.
    progress : bool, default=False
        Show the models' progress bars (epochs, ETA).

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig
    >>> BenchmarkConfig(models=["popularity"], seeds=2).check().seeds
    2
    """

    dataset: str = "synthetic"
    format: str | None = None
    data_home: str | None = None
    download: bool = True
    synthetic_users: int = SYNTHETIC_SIZE[0]
    synthetic_items: int = SYNTHETIC_SIZE[1]
    min_rating: float = 4.0
    min_user_interactions: int | None = None
    min_item_users: int | None = None
    n_validation_users: int | float | None = None
    n_test_users: int | float | None = None
    models: list | None = None
    params: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    metrics: tuple = DEFAULT_METRICS
    epochs: int | None = None
    seeds: int = 1
    device: str = "auto"
    threads: int | None = None
    output_dir: str | None = None
    progress: bool = False

    def check(self) -> BenchmarkConfig:
        """Raise ValueError naming the first setting that is out of range; return self."""
        _check_count("synthetic_users", self.synthetic_users, minimum=20)
        _check_count("synthetic_items", self.synthetic_items, minimum=2)
        _check_count("seeds", self.seeds)
        _check_count("epochs", self.epochs, optional=True)
        _check_count("threads", self.threads, optional=True)
        _check_count("min_user_interactions", self.min_user_interactions, minimum=0,
                     optional=True)
        _check_count("min_item_users", self.min_item_users, minimum=0, optional=True)
        for name in ("n_validation_users", "n_test_users"):
            _check_users(name, getattr(self, name))
        if not isinstance(self.min_rating, numbers.Real) or isinstance(self.min_rating, bool):
            raise ValueError(f"min_rating must be a number, got {self.min_rating!r}")

        if not self.metrics:
            raise ValueError("metrics must name at least one metric")
        for metric in self.metrics:
            if not isinstance(metric, str) or not _METRIC_PATTERN.match(metric):
                raise ValueError(f"metric {metric!r} is not of the form 'recall@K' or "
                                 "'ndcg@K' with K a positive integer")
        if self.models is not None and not self.models:
            raise ValueError("models must name at least one model")
        for table_name in ("params", "grid"):
            table = getattr(self, table_name)
            if not isinstance(table, dict) or not all(isinstance(v, dict)
                                                      for v in table.values()):
                raise ValueError(f"{table_name} must map model names to tables of "
                                 f"parameters, got {table!r}")
        return self


def _check_count(name: str, value, *, minimum: int = 1, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _check_users(name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < 1:
        return
    raise ValueError(f"{name} must be a positive number of users or a fraction in (0, 1), "
                     f"got {value!r}")


def read_config_file(path: str | os.PathLike) -> dict:
    """Read the settings of a TOML configuration file.

    Parameters
    ----------
    path : str or path-like
        The file; see the module documentation for its keys.

    Returns
    -------
    dict
        Field name of :class:`BenchmarkConfig` to value. A ``dataset`` given as a relative
        path (not a dataset name) is taken relative to the file's folder.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not valid TOML or has a key that is not a setting.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.benchmark import read_config_file
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "run.toml"
    >>> _ = file.write_text('dataset = "ml-1m"\\n[grid.ease]\\nl2 = [100.0, 500.0]\\n')
    >>> read_config_file(file)
    {'dataset': 'ml-1m', 'grid': {'ease': {'l2': [100.0, 500.0]}}}
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError("reading a configuration file needs Python 3.11 or "
                                      "the tomli package (pip install tomli)") from error

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"configuration file {path} does not exist")
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML: {error}") from error

    known = {f.name for f in dataclasses.fields(BenchmarkConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"{path}: unknown settings {unknown}; valid settings: "
                         f"{sorted(known)}")

    from skvaecf.benchmark.data import DATASETS

    dataset = settings.get("dataset")
    if isinstance(dataset, str) and dataset not in DATASETS and not Path(dataset).is_absolute():
        settings["dataset"] = str((path.parent / dataset).resolve())
    if "metrics" in settings:
        settings["metrics"] = tuple(settings["metrics"])
    return settings
