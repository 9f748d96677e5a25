"""A fast generator of implicit-feedback logs with the structure of real ones."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_params

from ._base import InteractionData

__all__ = ["make_interactions"]

logger = logging.getLogger(__name__)

#: Largest number of (user, item) scores held in memory at once while sampling.
_SCORES_PER_BLOCK = 2_000_000


@validate_params(
    {
        "n_users": [Interval(Integral, 1, None, closed="left")],
        "n_items": [Interval(Integral, 1, None, closed="left")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "density": [Interval(Real, 0, 1, closed="right")],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "cluster_strength": [Interval(Real, 1, None, closed="left")],
        "activity_spread": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_interactions(
    n_users: int = 1000,
    n_items: int = 500,
    *,
    n_clusters: int = 5,
    density: float = 0.05,
    popularity_exponent: float = 1.0,
    cluster_strength: float = 10.0,
    activity_spread: float = 1.0,
    random_state=None,
) -> InteractionData:
    """Generate a binary user x item matrix that looks like a real implicit-feedback log.

    Each item gets a popularity following a power law in its (random) popularity rank,
    and belongs to one of ``n_clusters`` taste clusters. Each user belongs to a taste
    cluster, for whose items the popularity is multiplied by ``cluster_strength``. A
    user's number of interactions (activity) is log-normal, and the items are drawn
    without replacement with probabilities proportional to the weights above.

    Parameters
    ----------
    n_users : int, default=1000
        Number of users (rows).
    n_items : int, default=500
        Number of items (columns).
    n_clusters : int, default=5
        Number of latent taste clusters shared by users and items.
    density : float, default=0.05
        Target mean fraction of the items a user interacts with, in (0, 1] (MovieLens-1M
        has 0.045). User activity is log-normal around ``density * n_items`` and clipped
        to ``[1, n_items]``, so the realised density differs from the target: slightly
        above it for sparse data (every user has at least one interaction), well below it
        for dense targets, where the clip at ``n_items`` cuts the long tail of activity
        (``density=0.5`` with the default ``activity_spread`` gives about 0.4). Use
        ``activity_spread=0`` to give every user exactly ``round(density * n_items)``
        interactions.
    popularity_exponent : float, default=1.0
        Exponent ``a`` of the item popularity ``(rank + 1) ** -a``; 0 gives uniform
        popularity, 1 a Zipf law as in music and movie logs.
    cluster_strength : float, default=10.0
        How much more likely a user is to pick an item of their own cluster; 1 removes
        the cluster structure.
    activity_spread : float, default=1.0
        Standard deviation of the log of the user activity; 0 gives every user the same
        number of interactions.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator. The same seed always gives the same data.

    Returns
    -------
    InteractionData
        ``X`` is a CSR matrix of shape (n_users, n_items), float32, all stored values
        1.0; ``user_ids`` and ``item_ids`` are ``arange(n_users)`` and
        ``arange(n_items)``; no timestamps. Use ``make_interactions(...).X`` for the
        matrix alone.

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        If a parameter is outside its range or of the wrong type, including a bool
        given for a number (a subclass of ValueError and TypeError).

    Notes
    -----
    Every user has at least one and at most ``n_items`` interactions; items may have
    none (as in real logs, where such items would not appear). Memory use is bounded
    by sampling users in blocks of about two million (user, item) scores, so the time
    grows as ``n_users * n_items``: a few seconds for 10,000 x 10,000 on one CPU core.

    The popularity law and the cluster structure follow the observations that motivate
    Mult-VAE's multinomial likelihood [1]_ (heavy-tailed item popularity, users mixing
    a few tastes). Sampling without replacement uses the exponential-race (Gumbel
    top-k) method [2]_.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.
    .. [2] P. S. Efraimidis and P. G. Spirakis, "Weighted random sampling with a
       reservoir", Information Processing Letters 97(5), 2006.

    Examples
    --------
    >>> from skvaecf.datasets import make_interactions
    >>> data = make_interactions(200, 50, random_state=0)
    >>> data.X.shape
    (200, 50)
    >>> bool(data.X.sum(axis=1).min() >= 1)
    True
    >>> X = make_interactions(200, 50, random_state=0).X
    >>> (X != data.X).nnz
    0
    """
    _reject_booleans(
        n_users=n_users, n_items=n_items, n_clusters=n_clusters, density=density,
        popularity_exponent=popularity_exponent, cluster_strength=cluster_strength,
        activity_spread=activity_spread,
    )
    rng = check_random_state(random_state)

    item_weights, user_clusters = _taste_weights(
        n_users, n_items, n_clusters, popularity_exponent, cluster_strength, rng
    )

    activity = _user_activity(n_users, n_items, density, activity_spread, rng)

    rows, columns = _sample_items(item_weights, user_clusters, activity, rng)

    X = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(n_users, n_items)
    )
    X.sort_indices()

    logger.debug(
        "generated %d users x %d items with %d interactions", n_users, n_items, X.nnz
    )
    return InteractionData(
        X, np.arange(n_users), np.arange(n_items), timestamps=None, name="synthetic"
    )


def _reject_booleans(**numbers) -> None:
    """Raise for a bool given as a number, which ``validate_params`` lets through.

    ``True`` is an ``Integral`` equal to 1, so ``n_users=True`` would silently mean one
    user; it is far more likely a misplaced argument.
    """
    for name, value in numbers.items():
        if isinstance(value, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The {name!r} parameter of make_interactions must be a number, not a "
                f"bool. Got {value!r} instead."
            )


def _taste_weights(n_users, n_items, n_clusters, popularity_exponent, cluster_strength, rng):
    """Return the (n_clusters, n_items) item weights of each cluster and each user's cluster."""
    popularity_rank = rng.permutation(n_items)
    popularity = (popularity_rank + 1.0) ** -popularity_exponent

    item_clusters = rng.randint(n_clusters, size=n_items)
    boost = np.where(
        np.arange(n_clusters)[:, None] == item_clusters[None, :], cluster_strength, 1.0
    )
    item_weights = boost * popularity[None, :]

    user_clusters = rng.randint(n_clusters, size=n_users)
    return item_weights, user_clusters


def _user_activity(n_users, n_items, density, activity_spread, rng):
    """Draw each user's number of interactions, log-normal with mean density * n_items."""
    mean_activity = density * n_items
    log_mean = np.log(mean_activity) - activity_spread**2 / 2
    activity = rng.lognormal(log_mean, activity_spread, size=n_users)
    return np.clip(np.rint(activity), 1, n_items).astype(np.intp)


def _sample_items(item_weights, user_clusters, activity, rng):
    """Draw ``activity[u]`` distinct items per user, weighted by the user's cluster."""
    n_users = len(user_clusters)
    n_items = item_weights.shape[1]
    block = max(1, _SCORES_PER_BLOCK // n_items)

    rows, columns = [], []
    for start in range(0, n_users, block):
        users = np.arange(start, min(start + block, n_users))

        # Exponential race: the k smallest Exp(1) / weight keys are a weighted sample
        # of k items without replacement.
        keys = rng.standard_exponential((len(users), n_items)) / item_weights[user_clusters[users]]
        ranked = _smallest_first(keys, activity[users].max())

        keep = np.arange(ranked.shape[1])[None, :] < activity[users, None]
        rows.append(np.broadcast_to(users[:, None], ranked.shape)[keep])
        columns.append(ranked[keep])

    return np.concatenate(rows), np.concatenate(columns)


def _smallest_first(keys, k):
    """Return, per row, the column indices of the ``k`` smallest keys in increasing order."""
    if k < keys.shape[1]:
        candidates = np.argpartition(keys, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(keys.shape[1]), keys.shape)

    order = np.argsort(np.take_along_axis(keys, candidates, axis=1), axis=1)
    return np.take_along_axis(candidates, order, axis=1)
