"""Top-k ranking metrics of the strong-generalisation protocol and sklearn scorers.

All metrics use binary relevance: an item is relevant to a user when it is a non-zero entry
of the user's held-out row. Users with no held-out item are left out of every mean.

With ``R`` the ranked list of a user (best first), ``H`` the set of held-out items and
``1[.]`` the indicator function:

* ``Recall@k = |R[:k] ∩ H| / min(k, |H|)`` (Liang et al., 2018). This is not the textbook
  recall (whose denominator is ``|H|``): it reaches 1 whenever the top k is full of hits.
* ``NDCG@k = DCG@k / IDCG@k`` with ``DCG@k = sum_{r=1..k} 1[R_r in H] / log2(r + 1)`` and
  ``IDCG@k = sum_{r=1..min(k, |H|)} 1 / log2(r + 1)``.

References
----------
.. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational Autoencoders for
   Collaborative Filtering", WWW 2018.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array

from skvaecf._validation import check_held_out, check_interactions, check_k
from skvaecf.model_selection import check_fold_in_parameters, fold_in_split

__all__ = [
    "recall_at_k",
    "ndcg_at_k",
    "ranking_metrics",
    "evaluate_recommender",
    "make_recommender_scorer",
]

_METRIC_PATTERN = re.compile(r"^(ndcg|recall)@([1-9][0-9]*)$")
_HIT_BATCH_USERS = 2048


def _parse_metric(name: str) -> tuple[str, int]:
    """Split a metric name such as ``"ndcg@100"`` into ``("ndcg", 100)``."""
    match = _METRIC_PATTERN.match(str(name).lower())
    if match is None:
        raise ValueError(f"Unknown metric {name!r}: expected 'ndcg@K' or 'recall@K' with a "
                         "positive integer K, for example 'ndcg@100' or 'recall@20'.")
    return match.group(1), int(match.group(2))


def _hits(top_items: np.ndarray, held_out: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(n_users, n_ranked)`` matrix: is the ranked item in the user's held-out set.

    Entries of ``top_items`` equal to -1 mark empty slots of the ranking and are never hits.
    """
    hits = np.zeros(top_items.shape, dtype=bool)
    valid = top_items >= 0
    safe_items = np.where(valid, top_items, 0)

    for start in range(0, top_items.shape[0], _HIT_BATCH_USERS):
        stop = start + _HIT_BATCH_USERS
        relevant = held_out[start:stop].toarray() > 0
        found = np.take_along_axis(relevant, safe_items[start:stop], axis=1)
        hits[start:stop] = found & valid[start:stop]
    return hits


def _per_user(kind: str, hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per-user Recall@k or NDCG@k from a hit matrix; NaN for users with nothing held out."""
    hits = hits[:, :k].astype(np.float64)
    ideal = np.minimum(n_relevant, k)

    if kind == "recall":
        numerator = hits.sum(axis=1)
        denominator = ideal.astype(np.float64)
    else:
        gains = 1.0 / np.log2(np.arange(2, k + 2))
        numerator = hits @ gains[: hits.shape[1]]
        denominator = np.concatenate([[0.0], np.cumsum(gains)])[ideal]

    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_relevant > 0, numerator / denominator, np.nan)


def ranking_metrics(top_items, y_true, metrics=("ndcg@100",), *, per_user: bool = False):
    """Compute several metrics from ranked item lists.

    Parameters
    ----------
    top_items : ndarray of shape (n_users, n_ranked)
        Item indices, best first, as returned by ``recommend``; -1 marks an empty slot.
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out interactions; non-zero entries are the relevant items.
    metrics : str or sequence of str, default=("ndcg@100",)
        Names ``"ndcg@K"`` or ``"recall@K"``. K may exceed ``n_ranked`` (for example when the
        catalogue is smaller than K): the missing positions count as misses.
    per_user : bool, default=False
        Return per-user values (NaN for users without held-out items) instead of means.

    Returns
    -------
    dict
        Metric name to mean over users with at least one held-out item (or to the per-user
        array when ``per_user=True``).

    Raises
    ------
    ValueError
        If the shapes disagree, an item index is out of range or repeated in a user's list,
        or no user has a held-out item (when means are asked for).
    TypeError
        If ``top_items`` does not hold integers.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> held_out = sp.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0]]))
    >>> ranking_metrics(np.array([[1, 0], [2, 3]]), held_out, ["recall@2", "ndcg@2"])
    {'recall@2': 0.25, 'ndcg@2': 0.3065...}
    """
    y_true = check_interactions(y_true, name="y_true")
    top_items = _check_top_items(top_items, y_true.shape)
    if isinstance(metrics, str):
        metrics = [metrics]

    parsed = {name: _parse_metric(name) for name in metrics}
    if not parsed:
        raise ValueError("metrics is empty: name at least one metric, such as 'ndcg@100'.")
    n_relevant = np.diff(y_true.indptr)
    if not per_user and not np.any(n_relevant > 0):
        raise ValueError("No user has a held-out interaction in y_true: the metrics are "
                         "undefined. Check the fold-in/held-out split.")

    max_k = max(k for _, k in parsed.values())
    hits = _hits(top_items[:, :max_k], y_true)
    results = {}
    for name, (kind, k) in parsed.items():
        values = _per_user(kind, hits, n_relevant, k)
        results[name] = values if per_user else float(np.nanmean(values))
    return results


def _check_top_items(top_items, shape: tuple[int, int]) -> np.ndarray:
    """Validate ranked lists: integers in ``[-1, n_items)``, no item twice in a list."""
    top_items = np.asarray(top_items)
    n_users, n_items = shape
    if top_items.ndim != 2 or top_items.shape[0] != n_users:
        raise ValueError(f"top_items must have shape (n_users, n_ranked) with n_users = "
                         f"{n_users}; got shape {top_items.shape}.")
    if top_items.size == 0:
        return top_items
    if not np.issubdtype(top_items.dtype, np.integer):
        raise TypeError(f"top_items must hold integer item indices, got dtype "
                        f"{top_items.dtype}.")

    if top_items.max() >= n_items or top_items.min() < -1:
        bad = top_items.max() if top_items.max() >= n_items else top_items.min()
        raise ValueError(f"top_items holds item index {bad}, outside [0, {n_items}) (y_true "
                         f"has {n_items} items; -1 marks an empty slot).")
    ordered = np.sort(top_items, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    users = np.flatnonzero(repeated.any(axis=1))
    if users.size:
        raise ValueError(f"top_items lists an item more than once for {users.size} user(s) "
                         f"(first: row {users[0]}); a ranking holds each item at most once.")
    return top_items


def _top_k_from_scores(y_score: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores per row, best first (NaN scores rank last)."""
    scores = np.nan_to_num(np.asarray(y_score, dtype=np.float64), nan=-np.inf)
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def _metric_from_scores(kind, y_true, y_score, k, per_user):
    y_true = check_interactions(y_true, name="y_true")
    y_score = check_array(y_score, dtype=np.float64, ensure_all_finite=False,
                          ensure_min_samples=1, ensure_min_features=1, input_name="y_score")
    if y_score.shape != y_true.shape:
        raise ValueError(f"y_score has shape {y_score.shape} but y_true has shape "
                         f"{y_true.shape}; both must be users x items.")
    n_nan = int(np.isnan(y_score).sum())
    if n_nan:
        raise ValueError(f"y_score has {n_nan} NaN values; a NaN score has no rank. Use "
                         "-inf for items to exclude from the ranking.")
    k = check_k(k, None)

    # Beyond the catalogue nothing changes: the whole catalogue is ranked.
    n_ranked = min(k, y_true.shape[1])
    name = f"{kind}@{k}"
    top = np.concatenate(
        [_top_k_from_scores(y_score[s:s + _HIT_BATCH_USERS], n_ranked)
         for s in range(0, y_score.shape[0], _HIT_BATCH_USERS)]
    )
    return ranking_metrics(top, y_true, [name], per_user=per_user)[name]


def recall_at_k(y_true, y_score, k: int = 20, *, per_user: bool = False):
    """Recall@k with the ``min(k, |held-out|)`` denominator of Liang et al. (2018).

    ``Recall@k = |top-k ∩ held-out| / min(k, |held-out|)``, averaged over users with at
    least one held-out item.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out interactions; non-zero entries are relevant.
    y_score : array-like of shape (n_users, n_items)
        Scores, higher is better. Give the fold-in items a score of ``-inf`` to exclude them
        from the ranking, as the protocol requires.
    k : int, default=20
        Cut-off, at least 1. A cut-off beyond the number of items ranks the whole catalogue.
    per_user : bool, default=False
        Return the per-user values (NaN where nothing is held out) instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1, 0, 1, 0], [0, 0, 0, 1]])
    >>> y_score = np.array([[0.9, 0.8, 0.1, 0.3], [0.2, 0.1, 0.4, 0.3]])
    >>> recall_at_k(y_true, y_score, k=2)
    0.75
    """
    return _metric_from_scores("recall", y_true, y_score, k, per_user)


def ndcg_at_k(y_true, y_score, k: int = 100, *, per_user: bool = False):
    """Normalised discounted cumulative gain at k with binary relevance.

    ``NDCG@k = DCG@k / IDCG@k``, ``DCG@k = sum_{r<=k} rel_r / log2(r + 1)`` and the ideal DCG
    sums ``1 / log2(r + 1)`` over the first ``min(k, |held-out|)`` ranks. On binary data
    without tied scores this equals :func:`sklearn.metrics.ndcg_score`.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_users, n_items)
        Held-out interactions; non-zero entries are relevant.
    y_score : array-like of shape (n_users, n_items)
        Scores, higher is better; use ``-inf`` for fold-in items.
    k : int, default=100
        Cut-off, at least 1. A cut-off beyond the number of items ranks the whole catalogue.
    per_user : bool, default=False
        Return the per-user values (NaN where nothing is held out) instead of their mean.

    Returns
    -------
    float or ndarray of shape (n_users,)

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1, 0, 1, 0]])
    >>> y_score = np.array([[0.9, 0.8, 0.1, 0.3]])
    >>> round(ndcg_at_k(y_true, y_score, k=3), 4)
    0.6131
    """
    return _metric_from_scores("ndcg", y_true, y_score, k, per_user)


def evaluate_recommender(estimator, X_fold_in, X_held_out,
                         metrics=("recall@20", "recall@50", "ndcg@100")) -> dict:
    """Evaluate a fitted recommender on fold-in / held-out interactions.

    The estimator ranks, for each user, all items not in the fold-in row (``recommend``
    with ``exclude_seen=True``); the ranking is compared with the held-out row.

    Parameters
    ----------
    estimator : fitted recommender
        Any estimator of this package (it needs ``recommend``).
    X_fold_in, X_held_out : {array-like, sparse matrix} of shape (n_users, n_items)
        What the model sees and what it must find.
    metrics : sequence of str
        Names ``"ndcg@K"`` or ``"recall@K"``.

    Returns
    -------
    dict
        Metric name to its mean over users with at least one held-out item.

    Examples
    --------
    >>> from skvaecf import PopularityRecommender
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.model_selection import strong_generalization_split
    >>> split = strong_generalization_split(make_interactions(500, 60, random_state=0).X,
    ...                                     50, 50, random_state=0)
    >>> model = PopularityRecommender().fit(split.train)
    >>> result = evaluate_recommender(model, split.test_fold_in, split.test_held_out,
    ...                               ["recall@20", "ndcg@100"])
    >>> sorted(result), all(0.0 <= value <= 1.0 for value in result.values())
    (['ndcg@100', 'recall@20'], True)
    """
    fold_in = check_interactions(X_fold_in, name="X_fold_in")
    held_out = check_held_out(fold_in, X_held_out, name="X_held_out")

    max_k = max(_parse_metric(name)[1] for name in metrics)
    n_ranked = min(max_k, fold_in.shape[1])
    top = estimator.recommend(fold_in, k=n_ranked, exclude_seen=True)
    return ranking_metrics(top, held_out, metrics)


class RecommenderScorer:
    """Scorer for sklearn searches: ``scorer(estimator, X, y=None) -> float``.

    Build it with :func:`make_recommender_scorer`. With ``y``, ``X`` is the fold-in part
    and ``y`` the held-out part; without it, each row of ``X`` is split by
    :func:`skvaecf.model_selection.fold_in_split` with a fixed seed.
    """

    def __init__(self, metric: str, held_out_fraction: float, min_interactions: int,
                 random_state):
        _parse_metric(metric)
        check_fold_in_parameters(held_out_fraction, min_interactions)
        self.metric = metric
        self.held_out_fraction = held_out_fraction
        self.min_interactions = min_interactions
        self.random_state = random_state

    def __call__(self, estimator, X, y=None) -> float:
        fold_in = check_interactions(X)
        if y is None:
            fold_in, held_out = fold_in_split(
                fold_in, self.held_out_fraction, min_interactions=self.min_interactions,
                random_state=self.random_state)
        else:
            held_out = check_held_out(fold_in, y)

        # A Pipeline has no recommend: transform the fold-in, then rank with the last step.
        if isinstance(estimator, Pipeline):
            fold_in, estimator = estimator[:-1].transform(fold_in), estimator[-1]
        return evaluate_recommender(estimator, fold_in, held_out, [self.metric])[self.metric]

    def __repr__(self) -> str:
        return f"make_recommender_scorer({self.metric!r})"


def make_recommender_scorer(metric: str = "ndcg@100", *, held_out_fraction: float = 0.2,
                            min_interactions: int = 5, random_state=0) -> RecommenderScorer:
    """Make a scorer usable as ``scoring=`` in sklearn's searches and cross-validation.

    Parameters
    ----------
    metric : str, default="ndcg@100"
        ``"ndcg@K"`` or ``"recall@K"``.
    held_out_fraction : float, default=0.2
        When the scorer is called without ``y``, the fraction of each user's interactions
        held out (strong generalisation on the users of the validation fold).
    min_interactions : int, default=5
        Users with fewer interactions keep them all as fold-in and are left out of the mean.
    random_state : int, default=0
        Seed of the fold-in/held-out split, fixed so that all candidates see the same split.

    Returns
    -------
    RecommenderScorer

    Examples
    --------
    >>> from sklearn.model_selection import KFold, cross_validate
    >>> from skvaecf import PopularityRecommender
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(300, 60, random_state=0).X
    >>> scoring = {"ndcg@100": make_recommender_scorer("ndcg@100"),
    ...            "recall@20": make_recommender_scorer("recall@20")}
    >>> cv = KFold(3, shuffle=True, random_state=0)
    >>> result = cross_validate(PopularityRecommender(), X, cv=cv, scoring=scoring)
    >>> sorted(k for k in result if k.startswith("test_"))
    ['test_ndcg@100', 'test_recall@20']
    """
    return RecommenderScorer(metric, held_out_fraction, min_interactions, random_state)
