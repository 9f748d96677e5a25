"""The container every loader and generator returns: a matrix plus its id maps."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["InteractionData"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class InteractionData:
    """A user x item interaction matrix with the original ids of its rows and columns.

    Every loader in :mod:`skvaecf.datasets` returns this object. Estimators take
    ``data.X``; ``user_ids`` and ``item_ids`` map row and column indices back to the
    ids used in the source files.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix of shape (n_users, n_items), dtype float32
        One stored entry per (user, item) pair with a non-zero value, and no explicitly
        stored zeros. The value is the rating, play count or weight of the source
        (negative values are allowed here, though the estimators reject them), or 1.0
        for implicit feedback.
    user_ids : ndarray of shape (n_users,)
        Original id of the user on each row, sorted ascending.
    item_ids : ndarray of shape (n_items,)
        Original id of the item on each column, sorted ascending.
    timestamps : scipy.sparse.csr_matrix of shape (n_users, n_items) or None, default=None
        Interaction times in seconds since the Unix epoch (int64), with exactly the same
        sparsity structure as ``X`` (``timestamps.indices`` equals ``X.indices``).
        None when the source has no times.
    name : str, default=""
        Short description of where the data come from, used in logs and reprs.

    Raises
    ------
    TypeError
        If ``X`` or ``timestamps`` is not a CSR matrix.
    ValueError
        If the id arrays or ``timestamps`` do not match the shape of ``X``, or ``X``
        stores explicit zeros (:meth:`from_matrix` removes them).

    Notes
    -----
    The attributes cannot be reassigned (``data.X = ...`` raises
    ``dataclasses.FrozenInstanceError``), and the functions of
    :mod:`skvaecf.datasets` return new objects instead of changing their input. The
    arrays and matrices themselves are neither copied nor frozen, when the object is
    built or when an attribute is read: ``data.X`` is the very matrix given, and an
    in-place change such as ``data.X.data[0] = 2`` changes the data (and every object
    sharing that matrix). Copy first (``data.X.copy()``) to edit values.

    Rows and columns with no stored entry are allowed (for example after
    :func:`binarize`); :func:`filter_min_counts` removes them.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> from skvaecf.datasets import InteractionData
    >>> X = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32))
    >>> data = InteractionData(X, user_ids=np.array([10, 20]), item_ids=np.array(["a", "b", "c"]))
    >>> data.n_users, data.n_items, data.n_interactions
    (2, 3, 3)
    >>> data.item_ids_of([2, 0]).tolist()
    ['c', 'a']
    >>> data.item_index(["b"]).tolist()
    [1]
    """

    X: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamps: sp.csr_matrix | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not sp.issparse(self.X) or self.X.format != "csr":
            raise TypeError(f"X must be a scipy.sparse CSR matrix, got {type(self.X).__name__}")

        n_zeros = len(self.X.data) - int(np.count_nonzero(self.X.data))
        if n_zeros:
            raise ValueError(
                f"X stores {n_zeros} explicit zeros, which would count as interactions; "
                "call X.eliminate_zeros() first, or build with InteractionData.from_matrix"
            )

        n_users, n_items = self.X.shape
        if len(self.user_ids) != n_users:
            raise ValueError(f"user_ids has {len(self.user_ids)} entries but X has {n_users} rows")
        if len(self.item_ids) != n_items:
            raise ValueError(
                f"item_ids has {len(self.item_ids)} entries but X has {n_items} columns"
            )

        if self.timestamps is not None:
            if not sp.issparse(self.timestamps) or self.timestamps.format != "csr":
                raise TypeError("timestamps must be a scipy.sparse CSR matrix or None")
            same_structure = (
                self.timestamps.shape == self.X.shape
                and np.array_equal(self.timestamps.indptr, self.X.indptr)
                and np.array_equal(self.timestamps.indices, self.X.indices)
            )
            if not same_structure:
                raise ValueError("timestamps must have exactly the sparsity structure of X")

    @classmethod
    def from_matrix(cls, X, name: str = "") -> InteractionData:
        """Wrap a user x item matrix, using the row and column indices as ids.

        Parameters
        ----------
        X : sparse matrix or array-like of shape (n_users, n_items)
            The interactions; copied into a CSR float32 matrix, so ``X`` itself is
            left unchanged.
        name : str, default=""
            Stored in the result's ``name``.

        Returns
        -------
        InteractionData
            With ``user_ids = arange(n_users)`` and ``item_ids = arange(n_items)``.
            Repeated entries of a sparse ``X`` are summed and explicitly stored zeros
            are removed (their number is logged at INFO level).

        Examples
        --------
        >>> import numpy as np
        >>> from skvaecf.datasets import InteractionData
        >>> InteractionData.from_matrix(np.eye(3)).n_interactions
        3
        """
        X = sp.csr_matrix(X, dtype=np.float32, copy=True)
        X.sum_duplicates()

        n_stored = X.nnz
        X.eliminate_zeros()
        if X.nnz < n_stored:
            logger.info("from_matrix: removed %d explicitly stored zeros", n_stored - X.nnz)
        return cls(X, np.arange(X.shape[0]), np.arange(X.shape[1]), None, name)

    @property
    def n_users(self) -> int:
        """Number of rows of ``X``."""
        return self.X.shape[0]

    @property
    def n_items(self) -> int:
        """Number of columns of ``X``."""
        return self.X.shape[1]

    @property
    def n_interactions(self) -> int:
        """Number of (user, item) pairs with a non-zero value: the stored entries of ``X``."""
        return self.X.nnz

    def user_ids_of(self, rows) -> np.ndarray:
        """Return the original user ids of the given row indices.

        Parameters
        ----------
        rows : array-like of int
            Row indices of ``X``.

        Returns
        -------
        ndarray
            ``user_ids[rows]``.
        """
        return self.user_ids[np.asarray(rows, dtype=np.intp)]

    def item_ids_of(self, columns) -> np.ndarray:
        """Return the original item ids of the given column indices.

        Use it to turn the column indices an estimator recommends into catalogue ids.

        Parameters
        ----------
        columns : array-like of int
            Column indices of ``X``.

        Returns
        -------
        ndarray
            ``item_ids[columns]``.
        """
        return self.item_ids[np.asarray(columns, dtype=np.intp)]

    def user_index(self, ids) -> np.ndarray:
        """Return the row indices of the given original user ids.

        Parameters
        ----------
        ids : array-like
            Original user ids.

        Returns
        -------
        ndarray of int
            The row of each id.

        Raises
        ------
        KeyError
            If an id is not one of ``user_ids``.
        """
        return _positions_of(self.user_ids, ids, what="user")

    def item_index(self, ids) -> np.ndarray:
        """Return the column indices of the given original item ids.

        Parameters
        ----------
        ids : array-like
            Original item ids.

        Returns
        -------
        ndarray of int
            The column of each id.

        Raises
        ------
        KeyError
            If an id is not one of ``item_ids``.
        """
        return _positions_of(self.item_ids, ids, what="item")

    def subset(self, rows=None, columns=None) -> InteractionData:
        """Return the data restricted to some rows and columns.

        Parameters
        ----------
        rows, columns : array-like of int or bool, default=None
            Row or column indices (or boolean masks) to keep; None keeps all.

        Returns
        -------
        InteractionData
            A new object; ids and timestamps follow the kept rows and columns.
        """
        rows = np.arange(self.n_users) if rows is None else np.asarray(rows)
        columns = np.arange(self.n_items) if columns is None else np.asarray(columns)
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        columns = np.flatnonzero(columns) if columns.dtype == bool else columns

        X = _take(self.X, rows, columns)
        timestamps = None if self.timestamps is None else _take(self.timestamps, rows, columns)

        return InteractionData(
            X, self.user_ids[rows], self.item_ids[columns], timestamps, self.name
        )

    def to_dataframe(self) -> pd.DataFrame:
        """Return the interactions as a long table, one row per stored entry.

        Returns
        -------
        pandas.DataFrame
            Columns ``user``, ``item``, ``value`` and, with timestamps, ``timestamp``,
            in row-major order. :func:`from_dataframe` with ``value_col="value"`` (and
            ``timestamp_col="timestamp"``) turns it back into the same data.
        """
        coo = self.X.tocoo()
        columns = {
            "user": self.user_ids[coo.row],
            "item": self.item_ids[coo.col],
            "value": coo.data,
        }
        if self.timestamps is not None:
            columns["timestamp"] = self.timestamps.data
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        times = "yes" if self.timestamps is not None else "no"
        return (
            f"InteractionData(name={self.name!r}, n_users={self.n_users}, "
            f"n_items={self.n_items}, n_interactions={self.n_interactions}, timestamps={times})"
        )


def _positions_of(sorted_ids: np.ndarray, ids, *, what: str) -> np.ndarray:
    """Find ``ids`` in the ascending array ``sorted_ids``; raise KeyError for unknown ones."""
    ids = np.asarray(ids, dtype=sorted_ids.dtype)
    positions = np.searchsorted(sorted_ids, ids)
    positions = np.minimum(positions, len(sorted_ids) - 1)

    found = sorted_ids[positions] == ids if len(sorted_ids) else np.zeros(ids.shape, bool)
    if not np.all(found):
        raise KeyError(f"unknown {what} ids: {ids[~found][:10].tolist()}")
    return positions


def _take(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """Select rows then columns of a CSR matrix, keeping its indices sorted."""
    selected = matrix[rows][:, columns].tocsr()
    selected.sort_indices()
    return selected
