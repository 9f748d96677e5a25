"""Splits of the strong-generalisation protocol (Liang et al., 2018).

In strong generalisation the users used for evaluation are not seen in training: the model is
trained on one set of users, and each held-out user's interactions are split into a fold-in
part (given to the model) and a held-out part (to be ranked). :func:`fold_in_split` does the
per-user split; :func:`strong_generalization_split` splits a whole matrix into training,
validation and test users.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from skvaecf._validation import check_interactions

__all__ = ["fold_in_split", "strong_generalization_split", "StrongGeneralizationSplit"]

logger = logging.getLogger(__name__)


def fold_in_split(X, held_out_fraction: float = 0.2, *, min_interactions: int = 5,
                  random_state=None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Split each user's interactions into a fold-in part and a held-out part.

    For every user with at least ``min_interactions`` interactions,
    ``max(1, floor(held_out_fraction * n))`` of its ``n`` interactions are drawn uniformly at
    random, without replacement, into the held-out part. Users with fewer interactions keep
    them all in the fold-in part and have nothing held out, so every metric leaves them out.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the evaluation users.
    held_out_fraction : float, default=0.2
        Fraction held out per user, in (0, 1).
    min_interactions : int, default=5
        Users below this count are not split.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    X_fold_in, X_held_out : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Disjoint parts whose sum is ``X``.

    Warns
    -----
    UserWarning
        If no user has ``min_interactions`` interactions, so that nothing is held out.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 10))
    >>> fold_in, held_out = fold_in_split(X, 0.2, random_state=0)
    >>> held_out.sum(axis=1).A1, fold_in.sum(axis=1).A1
    (array([2., 2.], dtype=float32), array([8., 8.], dtype=float32))
    """
    check_fold_in_parameters(held_out_fraction, min_interactions)
    X = check_interactions(X)
    rng = check_random_state(random_state)

    counts = np.diff(X.indptr)
    n_held = np.where(counts >= min_interactions,
                      np.maximum(1, np.floor(held_out_fraction * counts)), 0).astype(np.int64)

    # Rank the entries of each row by a random key; the first n_held ranks are held out.
    rows = np.repeat(np.arange(X.shape[0]), counts)
    order = np.lexsort((rng.random_sample(X.nnz), rows))
    rank = np.empty(X.nnz, dtype=np.int64)
    rank[order] = np.arange(X.nnz) - X.indptr[rows[order]]
    is_held = rank < n_held[rows]

    n_split = int(np.count_nonzero(n_held))
    if n_split < X.shape[0]:
        logger.info("fold_in_split: %d of %d users have fewer than %d interactions and "
                    "keep them all in the fold-in part", X.shape[0] - n_split, X.shape[0],
                    min_interactions)
    if n_split == 0:
        warnings.warn(f"no user has min_interactions={min_interactions} interactions, so "
                      "nothing is held out: the held-out matrix is empty and no metric can "
                      "be computed on it.", UserWarning, stacklevel=2)
    return _select_entries(X, ~is_held), _select_entries(X, is_held)


def check_fold_in_parameters(held_out_fraction, min_interactions) -> None:
    """Raise a clear error unless the parameters of :func:`fold_in_split` are valid."""
    if (isinstance(held_out_fraction, bool) or not isinstance(held_out_fraction, numbers.Real)
            or not 0.0 < held_out_fraction < 1.0):
        raise ValueError(f"held_out_fraction must be a number in (0, 1), got "
                         f"{held_out_fraction!r}.")
    if (isinstance(min_interactions, bool) or not isinstance(min_interactions, numbers.Integral)
            or min_interactions < 1):
        raise ValueError(f"min_interactions must be a positive integer, got "
                         f"{min_interactions!r}.")


def _select_entries(X: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """The entries of CSR ``X`` flagged in ``keep`` (aligned with ``X.data``), as CSR."""
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return sp.csr_matrix((X.data[keep], (rows[keep], X.indices[keep])), shape=X.shape)


@dataclass
class StrongGeneralizationSplit:
    """The matrices of a strong-generalisation split.

    Attributes
    ----------
    train : scipy.sparse.csr_matrix of shape (n_train_users, n_items)
        All interactions of the training users.
    validation_fold_in, validation_held_out : scipy.sparse.csr_matrix
        The validation users' interactions, split by :func:`fold_in_split`.
    test_fold_in, test_held_out : scipy.sparse.csr_matrix
        The test users' interactions, split the same way.
    train_users, validation_users, test_users : ndarray of int
        Row indices of each group in the original matrix.
    items : ndarray of int
        Column indices of the original matrix that are kept (items seen in training).

    Examples
    --------
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.model_selection import strong_generalization_split
    >>> split = strong_generalization_split(make_interactions(500, 60, random_state=0).X,
    ...                                     50, 50, random_state=0)
    >>> split.train.shape[0], split.validation_fold_in.shape[0], split.test_held_out.shape[0]
    (400, 50, 50)
    >>> fold_in, held_out = split.validation_data
    >>> (fold_in.multiply(held_out)).nnz  # disjoint parts of the same users
    0
    """

    train: sp.csr_matrix
    validation_fold_in: sp.csr_matrix
    validation_held_out: sp.csr_matrix
    test_fold_in: sp.csr_matrix
    test_held_out: sp.csr_matrix
    train_users: np.ndarray
    validation_users: np.ndarray
    test_users: np.ndarray
    items: np.ndarray

    @property
    def validation_data(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """``(validation_fold_in, validation_held_out)``, ready for ``fit(validation_data=)``."""
        return self.validation_fold_in, self.validation_held_out


def _n_users(value, n_total: int, name: str) -> int:
    """A user count given as a count (int) or a fraction of all users (float)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    if isinstance(value, numbers.Real) and 0.0 < value < 1.0:
        return max(1, int(round(value * n_total)))
    raise ValueError(f"{name} must be a positive number of users or a fraction in (0, 1), "
                     f"got {value!r}.")


def strong_generalization_split(X, n_validation_users=0.1, n_test_users=0.1, *,
                                held_out_fraction: float = 0.2, min_interactions: int = 5,
                                random_state=None) -> StrongGeneralizationSplit:
    """Split users into training, validation and test users, as in Liang et al. (2018).

    Users are permuted at random; the first ``n_test_users`` become test users, the next
    ``n_validation_users`` validation users, the rest training users. Only items with at
    least one interaction among the training users are kept (the model cannot score the
    others); the validation and test interactions with dropped items are removed, and the
    number removed is logged. Validation and test users are then split into fold-in and
    held-out parts by :func:`fold_in_split`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        All interactions, already binarised and filtered as the protocol requires.
    n_validation_users, n_test_users : int or float, default=0.1
        A number of users, or a fraction of all users.
    held_out_fraction : float, default=0.2
        Fraction of each evaluation user's interactions held out.
    min_interactions : int, default=5
        Evaluation users with fewer interactions have nothing held out.
    random_state : int, RandomState instance or None, default=None
        Seed of the user permutation and of the fold-in splits.

    Returns
    -------
    StrongGeneralizationSplit

    Examples
    --------
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(1000, 100, random_state=0).X
    >>> split = strong_generalization_split(X, 100, 100, random_state=0)
    >>> split.train.shape[0], split.test_fold_in.shape[0]
    (800, 100)
    """
    X = check_interactions(X)
    rng = check_random_state(random_state)
    n_total = X.shape[0]
    n_val = _n_users(n_validation_users, n_total, "n_validation_users")
    n_test = _n_users(n_test_users, n_total, "n_test_users")
    if n_val + n_test >= n_total:
        raise ValueError(f"n_validation_users + n_test_users = {n_val + n_test} leaves no "
                         f"training user out of {n_total} users.")

    users = rng.permutation(n_total)
    test_users = np.sort(users[:n_test])
    validation_users = np.sort(users[n_test:n_test + n_val])
    train_users = np.sort(users[n_test + n_val:])

    train = X[train_users]
    items = np.flatnonzero(np.diff(train.tocsc().indptr) > 0)
    if items.size < X.shape[1]:
        evaluation = X[np.concatenate([validation_users, test_users])]
        lost = evaluation.nnz - evaluation[:, items].nnz
        logger.info("keeping the %d of %d items seen in training users; %d interactions of "
                    "evaluation users with unseen items are dropped",
                    items.size, X.shape[1], lost)

    X = X[:, items]
    val_fold_in, val_held_out = fold_in_split(
        X[validation_users], held_out_fraction, min_interactions=min_interactions,
        random_state=rng)
    test_fold_in, test_held_out = fold_in_split(
        X[test_users], held_out_fraction, min_interactions=min_interactions, random_state=rng)

    return StrongGeneralizationSplit(
        train=X[train_users], validation_fold_in=val_fold_in, validation_held_out=val_held_out,
        test_fold_in=test_fold_in, test_held_out=test_held_out, train_users=train_users,
        validation_users=validation_users, test_users=test_users, items=items)
