"""Input checking shared by every recommender: the interaction matrix and its companions."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_non_negative, validate_data


def check_interactions(X, *, estimator=None, reset: bool = True, name: str = "X") -> sp.csr_matrix:
    """Validate a users x items interaction matrix and return it as float32 CSR.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Non-negative interaction strengths (binary clicks or counts). Any scipy sparse
        format and dense arrays are accepted.
    estimator : estimator instance, default=None
        When given, sklearn's ``validate_data`` also records (``reset=True``) or checks
        (``reset=False``) the number of items in ``estimator.n_features_in_``.
    reset : bool, default=True
        Whether this call defines the number of items (at ``fit``) or checks it.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    X : scipy.sparse.csr_matrix of dtype float32
        A canonical copy (sorted indices, no explicit zeros, duplicates summed).

    Raises
    ------
    ValueError
        If ``X`` is None or empty, has NaN or infinite values, negative values, values beyond the
        float32 range, or a number of items different from the one seen at ``fit``.
    TypeError
        If ``X`` is not numeric.
    """
    if X is None:
        raise ValueError(f"{name} is None; expected a users x items interaction matrix.")

    kwargs = dict(accept_sparse="csr", dtype=[np.float32, np.float64], ensure_min_samples=1,
                  ensure_min_features=1)
    if estimator is not None:
        X = validate_data(estimator, X, reset=reset, **kwargs)
    else:
        X = check_array(X, input_name=name, **kwargs)

    check_non_negative(X, f"{type(estimator).__name__ if estimator else 'check_interactions'}"
                          f" ({name})")

    values = X.data if sp.issparse(X) else X
    if values.size and np.abs(values).max() > np.finfo(np.float32).max:
        raise ValueError(_too_large_for_float32(name))

    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    if not np.isfinite(X.data).all():  # duplicate entries summed beyond the float32 range
        raise ValueError(_too_large_for_float32(name))
    return X


def _too_large_for_float32(name: str) -> str:
    return (f"{name} has values too large for float32 (above "
            f"{np.finfo(np.float32).max:.3g}), the precision the models compute in; rescale "
            "the values.")


def check_held_out(X_fold_in: sp.csr_matrix, X_held_out, *, name: str = "y") -> sp.csr_matrix:
    """Validate a held-out matrix against its fold-in matrix (same shape, non-negative).

    Parameters
    ----------
    X_fold_in : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The already validated fold-in interactions.
    X_held_out : {array-like, sparse matrix} of shape (n_users, n_items)
        The interactions to be predicted for the same users.
    name : str, default="y"
        Name used in error messages.

    Returns
    -------
    X_held_out : scipy.sparse.csr_matrix of dtype float32

    Raises
    ------
    ValueError
        If the shapes differ, the held-out matrix is empty, or it shares entries with the
        fold-in matrix.
    """
    if X_held_out is None:
        raise ValueError(f"{name} is None; expected the held-out interactions of the users.")
    if not sp.issparse(X_held_out) and np.ndim(X_held_out) != 2:
        raise ValueError(
            f"{name} must be a 2-D users x items matrix of held-out interactions with shape "
            f"{X_fold_in.shape}; got an array with shape {np.shape(X_held_out)}."
        )
    held_out = check_interactions(X_held_out, name=name)
    if held_out.shape != X_fold_in.shape:
        raise ValueError(
            f"{name} has shape {held_out.shape} but the fold-in matrix has shape "
            f"{X_fold_in.shape}; both must be users x items for the same users and items."
        )

    if held_out.nnz == 0:
        raise ValueError(f"{name} has no interactions: no user has a held-out item to rank, "
                         "so no metric can be computed. Check the fold-in/held-out split.")
    n_shared = X_fold_in.multiply(held_out).nnz
    if n_shared:
        raise ValueError(
            f"{name} shares {n_shared} user-item entries with the fold-in matrix. Items of "
            "the fold-in part are never recommended, so a held-out item that is also in the "
            "fold-in part can never be found: the two parts must be disjoint "
            "(skvaecf.model_selection.fold_in_split makes such a split)."
        )
    return held_out


def check_k(k, n_items: int | None, *, name: str = "k") -> int:
    """Check that ``k`` is an integer in ``[1, n_items]`` and return it as ``int``.

    ``n_items=None`` sets no upper bound.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {k!r} of type {type(k).__name__}.")
    if n_items is None:
        if k < 1:
            raise ValueError(f"{name}={k} is out of range: it must be at least 1.")
        return int(k)
    if not 1 <= k <= n_items:
        raise ValueError(f"{name}={k} is out of range: it must be between 1 and the number "
                         f"of items ({n_items}).")
    return int(k)
