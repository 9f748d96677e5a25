"""The preprocessing steps of the papers: binarising ratings and filtering rare users/items."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._base import InteractionData

__all__ = ["binarize", "filter_min_counts"]

logger = logging.getLogger(__name__)


@validate_params(
    {"threshold": [Interval(Real, None, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def binarize(data, threshold: float = 0.0):
    """Turn ratings or counts into implicit feedback: 1 if above ``threshold``, else removed.

    Parameters
    ----------
    data : InteractionData, sparse matrix or array-like of shape (n_users, n_items)
        The interactions. Only stored (nonzero or explicitly stored) entries are
        considered.
    threshold : float, default=0.0
        Entries with a value strictly greater than ``threshold`` become 1.0; the others
        are removed. ``binarize(data, 3.5)`` keeps the ratings of 4 stars and more, as
        in the Mult-VAE paper [1]_; ``binarize(data, 0)`` keeps every positive count.

    Returns
    -------
    InteractionData or scipy.sparse.csr_matrix
        An InteractionData (timestamps of kept entries kept) if ``data`` is one,
        otherwise a float32 CSR matrix. The shape does not change: users or items left
        without interactions stay as empty rows / columns until
        :func:`filter_min_counts` removes them.

    Raises
    ------
    ValueError
        If ``data`` is neither InteractionData nor convertible to a numeric matrix.

    Notes
    -----
    The threshold is strict, like :func:`sklearn.preprocessing.binarize`. The number of
    removed interactions, and of users and items left empty, is logged at INFO level.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skvaecf.datasets import binarize
    >>> ratings = np.array([[5, 3, 0], [4, 0, 1]])
    >>> binarize(ratings, 3.5).toarray()
    array([[1., 0., 0.],
           [1., 0., 0.]], dtype=float32)
    """
    if isinstance(data, InteractionData):
        keep = data.X.data > threshold
        X = _keep_entries(data.X, keep)
        X.data[:] = 1.0
        times = None if data.timestamps is None else _keep_entries(data.timestamps, keep)
        result = InteractionData(X, data.user_ids, data.item_ids, times, data.name)
    else:
        X = sp.csr_matrix(check_array(data, accept_sparse="csr", dtype=np.float32))
        keep = X.data > threshold
        result = X = _keep_entries(X, keep)
        X.data[:] = 1.0

    logger.info(
        "binarize(threshold=%g): removed %d of %d interactions; %d users and %d items "
        "now have none",
        threshold, len(keep) - X.nnz, len(keep),
        np.count_nonzero(X.getnnz(axis=1) == 0), np.count_nonzero(X.getnnz(axis=0) == 0),
    )
    return result


@validate_params(
    {
        "data": [InteractionData],
        "min_user": [Interval(Integral, 0, None, closed="left")],
        "min_item": [Interval(Integral, 0, None, closed="left")],
        "order": [StrOptions({"items_first", "users_first"})],
        "iterate": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def filter_min_counts(
    data: InteractionData,
    min_user: int = 1,
    min_item: int = 1,
    *,
    order: str = "items_first",
    iterate: bool = False,
) -> InteractionData:
    """Keep users with at least ``min_user`` interactions and items with at least ``min_item``.

    Parameters
    ----------
    data : InteractionData
        The interactions. Wrap a bare matrix with :meth:`InteractionData.from_matrix`.
    min_user : int, default=1
        Smallest number of interactions (stored entries) a kept user has.
    min_item : int, default=1
        Smallest number of users a kept item has.
    order : {"items_first", "users_first"}, default="items_first"
        Which filter runs first. ``"items_first"`` is the order of the Mult-VAE code [1]_.
    iterate : bool, default=False
        Repeat both filters until nothing changes (a fixed point, the "k-core"), so that
        both minimums hold in the result. With False each filter runs once, as in [1]_:
        removing users may then leave items below ``min_item``.

    Returns
    -------
    InteractionData
        The kept users and items, in their original order.

    Raises
    ------
    ValueError
        If no interaction is left (the message names the thresholds).

    Notes
    -----
    Rows and columns left without any interaction are always removed at the end, even
    with ``min_user=0`` or ``min_item=0``: like the paper's code, which counts the
    items of the filtered log, the result only has users and items that occur. Each
    step logs at INFO level how many users, items and interactions it removed.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018; code at
       https://github.com/dawenl/vae_cf (function ``filter_triplets``).

    Examples
    --------
    >>> from skvaecf.datasets import filter_min_counts, make_interactions
    >>> data = make_interactions(300, 100, random_state=0)
    >>> core = filter_min_counts(data, min_user=5, min_item=5, iterate=True)
    >>> bool(core.X.getnnz(axis=1).min() >= 5 and core.X.getnnz(axis=0).min() >= 5)
    True
    """
    steps = [("items", min_item), ("users", min_user), ("items", 1), ("users", 1)]
    if order == "users_first":
        steps[:2] = steps[1::-1]

    while True:
        size_before = data.X.shape, data.n_interactions
        for axis_name, minimum in steps:
            data = _drop_rare(data, axis_name, minimum)

        if data.n_interactions == 0:
            raise ValueError(
                f"no interaction left after filter_min_counts(min_user={min_user}, "
                f"min_item={min_item}, order={order!r}, iterate={iterate}); lower the thresholds"
            )
        if not iterate or (data.X.shape, data.n_interactions) == size_before:
            return data


def _drop_rare(data: InteractionData, axis_name: str, minimum: int) -> InteractionData:
    """Remove the users (or items) with fewer than ``minimum`` interactions."""
    axis = 1 if axis_name == "users" else 0
    counts = data.X.getnnz(axis=axis)
    keep = counts >= minimum
    if keep.all():
        return data

    filtered = data.subset(rows=keep) if axis_name == "users" else data.subset(columns=keep)

    logger.info(
        "kept %s with >= %d interactions: removed %d users, %d items and %d interactions; "
        "%d users, %d items and %d interactions left",
        axis_name, minimum, data.n_users - filtered.n_users, data.n_items - filtered.n_items,
        data.n_interactions - filtered.n_interactions,
        filtered.n_users, filtered.n_items, filtered.n_interactions,
    )
    return filtered


def _keep_entries(matrix: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """Return a CSR matrix with only the stored entries where ``keep`` is True."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.zeros(matrix.shape[0] + 1, dtype=matrix.indptr.dtype)
    np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape
    )
