"""The benchmark's data: loading a dataset by name or path, preprocessing it, splitting users.

Every dataset goes through the Mult-VAE paper's steps (Liang et al., 2018): ratings at or
above ``min_rating`` (or every positive count) become clicks, items with fewer than
``min_item_users`` users are removed, then users with fewer than ``min_user_interactions``
clicks; validation and test users are set aside and each of their rows is split 80/20 into
fold-in and held-out parts (:func:`skvaecf.model_selection.strong_generalization_split`).

A folder with ``train.txt`` and ``test.txt`` in the NGCF/LightGCN layout is used with its
own split instead (weak generalisation, see :func:`split_benchmark_data`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils import check_random_state

from skvaecf import datasets
from skvaecf.model_selection import (StrongGeneralizationSplit, fold_in_split,
                                     strong_generalization_split)

logger = logging.getLogger(__name__)

__all__ = ["DATASETS", "FORMATS", "BenchmarkData", "DatasetInfo", "guess_format",
           "load_benchmark_data", "split_benchmark_data"]


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset known by name, with its published preprocessing and held-out users.

    Attributes
    ----------
    description : str
        What the data are, for the report.
    has_ratings : bool
        Values are ratings (binarised with ``min_rating``) rather than counts.
    min_user_interactions, min_item_users : int
        Published filters.
    n_validation_users, n_test_users : int or float
        Published held-out users (a count or a fraction).
    epochs : int
        Default epochs of the VAE models.
    """

    description: str
    has_ratings: bool
    min_user_interactions: int = 5
    min_item_users: int = 0
    n_validation_users: int | float = 0.1
    n_test_users: int | float = 0.1
    epochs: int = 200


def _movielens(variant: str, n_held_out: int | float = 0.1) -> DatasetInfo:
    return DatasetInfo(f"MovieLens {variant.upper()} (GroupLens), fetched into the cache",
                       has_ratings=True, n_validation_users=n_held_out,
                       n_test_users=n_held_out)


#: Datasets known by name. ML-20M, Netflix and MSD follow the Mult-VAE paper: ratings >= 4
#: (> 3.5) or all plays, users >= 5 (MSD: songs >= 200 users first, then users >= 20) and
#: 10k, 40k and 50k validation and test users.
DATASETS = {
    "synthetic": DatasetInfo("embedded synthetic data (skvaecf.datasets.make_interactions, "
                             "random_state=0)", has_ratings=False, epochs=30),
    "ml-100k": _movielens("100k"),
    "ml-1m": _movielens("1m"),
    "ml-10m": _movielens("10m"),
    "ml-20m": _movielens("20m", 10_000),
    "ml-25m": _movielens("25m"),
    "ml-latest-small": _movielens("latest-small"),
    "netflix": DatasetInfo("Netflix Prize training ratings, from the cache folder 'netflix'",
                           has_ratings=True, n_validation_users=40_000,
                           n_test_users=40_000),
    "msd": DatasetInfo("Million Song Dataset taste profile, fetched into the cache",
                       has_ratings=False, min_user_interactions=20, min_item_users=200,
                       n_validation_users=50_000, n_test_users=50_000),
}

#: Layouts of local files: the loader and whether values are ratings.
FORMATS = {
    "movielens": (datasets.load_movielens, True),
    "netflix": (datasets.load_netflix, True),
    "msd": (datasets.load_msd, False),
    "lastfm": (datasets.load_lastfm, False),
    "lists": (datasets.load_user_item_lists, False),
    "csv": (None, None),  # ratings when the file has a "rating" column
}

#: File names that identify a layout, looked for in a folder or matched by a file name.
_FORMAT_FILES = [
    ("movielens", ("u.data", "ratings.dat", "ratings.csv")),
    ("lists", ("train.txt",)),
    ("lastfm", ("user_artists.dat",)),
    ("msd", ("train_triplets.txt",)),
    ("netflix", ("training_set", "combined_data_1.txt")),
]


@dataclass
class BenchmarkData:
    """A preprocessed dataset ready to be split.

    Attributes
    ----------
    name : str
        Short name for the report.
    source : str
        Where the data came from.
    X : scipy.sparse.csr_matrix
        Binary users x items clicks after preprocessing (the training part of a given
        split).
    test : scipy.sparse.csr_matrix or None
        The test clicks of a given train/test split, aligned with ``X``; None otherwise.
    info : DatasetInfo
        The dataset's defaults (held-out users, epochs).
    steps : list of str
        The preprocessing applied, in order.
    """

    name: str
    source: str
    X: sp.csr_matrix
    test: sp.csr_matrix | None
    info: DatasetInfo
    steps: list = field(default_factory=list)

    def describe(self) -> dict:
        """Sizes and preprocessing, for the report."""
        n_users, n_items = self.X.shape
        interactions = self.X.nnz + (0 if self.test is None else self.test.nnz)
        return {"name": self.name, "source": self.source, "n_users": n_users,
                "n_items": n_items, "n_interactions": int(interactions),
                "density": interactions / max(n_users * n_items, 1),
                "preprocessing": list(self.steps)}


def guess_format(path: str | Path) -> str:
    """The layout of a local dataset, from its file names.

    Parameters
    ----------
    path : str or path-like
        A file or folder.

    Returns
    -------
    str
        A key of :data:`FORMATS`.

    Raises
    ------
    ValueError
        If no known file name matches; the message asks for an explicit format.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skvaecf.benchmark.data import guess_format
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ratings.dat").write_text("1::10::5::978300760\\n")
    >>> guess_format(folder)
    'movielens'
    """
    path = Path(path)
    for layout, names in _FORMAT_FILES:
        if path.is_dir() and any((path / name).exists() for name in names):
            return layout
        if path.name in names:
            return layout
    if path.suffix == ".csv":
        return "csv"
    valid = ", ".join(FORMATS)
    raise ValueError(f"cannot tell the layout of {path} from its file names; give the format "
                     f"explicitly (one of {valid})")


def load_benchmark_data(config) -> BenchmarkData:
    """Load and preprocess the dataset of a :class:`~skvaecf.benchmark.BenchmarkConfig`.

    Parameters
    ----------
    config : BenchmarkConfig
        Uses ``dataset``, ``format``, ``data_home``, ``download``, the synthetic sizes,
        ``min_rating``, ``min_user_interactions`` and ``min_item_users``.

    Returns
    -------
    BenchmarkData

    Raises
    ------
    FileNotFoundError
        If a named dataset is not in the cache and cannot be downloaded, or a path does
        not exist.
    ValueError
        If the format is unknown or nothing is left after preprocessing.

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig
    >>> from skvaecf.benchmark.data import load_benchmark_data
    >>> data = load_benchmark_data(BenchmarkConfig(synthetic_users=400, synthetic_items=100))
    >>> data.X.shape
    (153, 100)
    >>> data.steps[-1]
    'kept users with >= 5 clicks (after items with >= 0 users)'
    """
    name = config.dataset
    if name in DATASETS:
        info = DATASETS[name]
        raw, source = _load_named(name, config)
        has_ratings = info.has_ratings
    else:
        path = Path(name).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"dataset {name!r} is neither a known name "
                                    f"({', '.join(DATASETS)}) nor an existing path")
        layout = config.format or guess_format(path)
        if layout == "lists" and path.is_dir() and (path / "test.txt").is_file():
            return _given_split_data(path)
        raw, has_ratings = _load_path(path, layout)
        info = DatasetInfo(f"{layout} file", has_ratings=has_ratings)
        source = f"{path} ({layout} layout)"

    min_user = _or_default(config.min_user_interactions, info.min_user_interactions)
    min_item = _or_default(config.min_item_users, info.min_item_users)
    X, steps = _preprocess(raw, has_ratings, config.min_rating, min_user, min_item)
    label = name if name in DATASETS else Path(name).name or str(name)
    return BenchmarkData(label, source, X, None, info, steps)


def _or_default(value, default):
    return default if value is None else value


def _load_named(name: str, config) -> tuple[datasets.InteractionData, str]:
    if name == "synthetic":
        data = datasets.make_interactions(config.synthetic_users, config.synthetic_items,
                                          random_state=0)
        return data, (f"make_interactions({config.synthetic_users}, "
                      f"{config.synthetic_items}, random_state=0)")

    if name == "netflix":
        folder = datasets.get_data_home(config.data_home) / "netflix"
        if not folder.exists():
            raise FileNotFoundError(
                f"the Netflix Prize data are not distributed any more and are not in the "
                f"cache ({folder}); put the unpacked files there, or pass their path as the "
                "dataset with format 'netflix'")
        return datasets.load_netflix(folder), str(folder)

    if name == "msd":
        data = datasets.fetch_msd(data_home=config.data_home,
                                  download_if_missing=config.download)
    else:
        data = datasets.fetch_movielens(name, data_home=config.data_home,
                                        download_if_missing=config.download)
    return data, f"{DATASETS[name].description} ({datasets.get_data_home(config.data_home)})"


def _load_path(path: Path, layout: str) -> tuple[datasets.InteractionData, bool]:
    if layout not in FORMATS:
        raise ValueError(f"unknown format {layout!r}; valid formats: {', '.join(FORMATS)}")
    if layout == "csv":
        header = pd.read_csv(path, nrows=0).columns
        value_col = "rating" if "rating" in header else None
        return datasets.load_csv(path, value_col=value_col), value_col is not None
    if layout == "lists" and path.is_dir():
        path = path / "train.txt"

    loader, has_ratings = FORMATS[layout]
    return loader(path), has_ratings


def _preprocess(raw: datasets.InteractionData, has_ratings: bool, min_rating: float,
                min_user: int, min_item: int) -> tuple[sp.csr_matrix, list]:
    """Binarise, filter items then users once (the paper's order); log and list each step."""
    steps = [f"loaded {raw.n_users} users, {raw.n_items} items, "
             f"{raw.n_interactions} interactions"]

    if has_ratings:
        # binarize keeps values strictly above its threshold; the largest float32 (the
        # dtype of X) below min_rating makes that "at or above" (4 and 4.5 stars for 4).
        below = np.nextafter(np.float32(min_rating), np.float32(-np.inf))
        clicks = datasets.binarize(raw, float(below))
        steps.append(f"ratings >= {min_rating:g} kept as clicks")
    else:
        clicks = datasets.binarize(raw, 0.0)
        steps.append("every positive value kept as a click")

    kept = datasets.filter_min_counts(clicks, min_user=min_user, min_item=min_item,
                                      order="items_first")
    steps.append(f"kept users with >= {min_user} clicks (after items with >= {min_item} "
                 "users)")
    logger.info("preprocessed: %d users, %d items, %d clicks", kept.n_users, kept.n_items,
                kept.n_interactions)
    return kept.X, steps


def _given_split_data(folder: Path) -> BenchmarkData:
    """An NGCF/LightGCN folder: train.txt and test.txt on the same users and items."""
    train = datasets.load_user_item_lists(folder / "train.txt")
    test = datasets.load_user_item_lists(folder / "test.txt")
    user_ids = np.union1d(train.user_ids, test.user_ids)
    item_ids = np.union1d(train.item_ids, test.item_ids)

    X = _reindex(train, user_ids, item_ids)
    test_X = _reindex(test, user_ids, item_ids)
    steps = [f"train.txt and test.txt used as given: {X.shape[0]} users, {X.shape[1]} items, "
             f"{X.nnz} train and {test_X.nnz} test clicks"]
    info = DatasetInfo("user-item lists with a given train/test split", has_ratings=False,
                       n_test_users=0)
    return BenchmarkData(folder.name, f"{folder} (lists layout, given split)", X, test_X,
                         info, steps)


def _reindex(data: datasets.InteractionData, user_ids, item_ids) -> sp.csr_matrix:
    coo = data.X.tocoo()
    rows = np.searchsorted(user_ids, data.user_ids[coo.row])
    columns = np.searchsorted(item_ids, data.item_ids[coo.col])
    shape = (len(user_ids), len(item_ids))
    X = sp.csr_matrix((np.ones(coo.nnz, dtype=np.float32), (rows, columns)), shape=shape)
    X.sort_indices()
    return X


def split_benchmark_data(data: BenchmarkData, n_validation_users, n_test_users,
                         seed: int) -> StrongGeneralizationSplit:
    """Training, validation and test users for one seed.

    Without a given test split this is
    :func:`~skvaecf.model_selection.strong_generalization_split`. With one (``data.test``),
    every user with test clicks is a test user, whose fold-in is the whole training row and
    whose held-out part is the test row (weak generalisation, as in NGCF and LightGCN); the
    ``n_validation_users`` validation users are drawn among all users, 20 % of their
    training clicks are held out of training and used to choose epochs and parameters.

    Parameters
    ----------
    data : BenchmarkData
        The preprocessed data.
    n_validation_users, n_test_users : int or float or None
        Counts or fractions of users; None uses the dataset's defaults.
        ``n_test_users`` is ignored with a given split.
    seed : int
        Seed of the draw of users and of the fold-in splits.

    Returns
    -------
    StrongGeneralizationSplit

    Examples
    --------
    >>> from skvaecf.benchmark import BenchmarkConfig
    >>> from skvaecf.benchmark.data import load_benchmark_data, split_benchmark_data
    >>> data = load_benchmark_data(BenchmarkConfig(synthetic_users=400, synthetic_items=100))
    >>> split = split_benchmark_data(data, 30, 30, seed=0)
    >>> split.validation_fold_in.shape[0], split.test_fold_in.shape[0]
    (30, 30)
    """
    n_validation = _or_default(n_validation_users, data.info.n_validation_users)
    if data.test is None:
        n_test = _or_default(n_test_users, data.info.n_test_users)
        return strong_generalization_split(data.X, n_validation, n_test, random_state=seed)
    return _given_split(data.X, data.test, n_validation, seed)


def _given_split(train: sp.csr_matrix, test: sp.csr_matrix, n_validation,
                 seed: int) -> StrongGeneralizationSplit:
    rng = check_random_state(seed)
    n_users = train.shape[0]
    if isinstance(n_validation, float):
        n_validation = max(1, int(round(n_validation * n_users)))
    if not 1 <= n_validation < n_users:
        raise ValueError(f"n_validation_users={n_validation} must be between 1 and the "
                         f"{n_users - 1} users of the given split")

    validation_users = np.sort(rng.permutation(n_users)[:n_validation])
    fold_in, held_out = fold_in_split(train[validation_users], 0.2, random_state=rng)

    # The validation users' held-out clicks are removed from training, so that choosing the
    # epoch does not reward memorising them.
    held = held_out.tocoo()
    mask = sp.csr_matrix((np.ones(held.nnz, dtype=np.float32),
                          (validation_users[held.row], held.col)), shape=train.shape)
    training = (train - train.multiply(mask)).tocsr()
    training.eliminate_zeros()

    test_users = np.flatnonzero(np.diff(test.indptr) > 0)
    logger.info("given split: %d training users (%d with 20 %% of their clicks held out for "
                "validation), %d test users", n_users, n_validation, test_users.size)
    return StrongGeneralizationSplit(
        train=training, validation_fold_in=fold_in, validation_held_out=held_out,
        test_fold_in=train[test_users], test_held_out=test[test_users],
        train_users=np.arange(n_users), validation_users=validation_users,
        test_users=test_users, items=np.arange(train.shape[1]))
