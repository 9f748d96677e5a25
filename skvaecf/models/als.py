"""Implicit-feedback matrix factorisation by alternating least squares (Hu et al., 2008)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from skvaecf._device import inference_device, make_generators, resolve_device
from skvaecf.base import BaseRecommender

logger = logging.getLogger(__name__)

__all__ = ["ALSRecommender"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: Largest number of gathered factor values (rows x padded length x factors) in one batch.
_MAX_GATHERED_PER_BATCH = 2**22


class ALSRecommender(BaseRecommender):
    """Weighted matrix factorisation for implicit feedback, fitted by alternating least squares.

    Users and items get ``factors``-dimensional vectors ``u`` and ``v``. Every user x item
    pair has a preference ``p = 1[x > 0]`` and a confidence ``c = 1 + alpha * x``, and the
    model minimises over all pairs (observed or not)

    ``sum_{u,i} c_ui (p_ui - u_u . v_i)^2 + regularization * (sum_u |u_u|^2 + sum_i |v_i|^2)``.

    With the items fixed, each user's vector is the solution of a ``factors x factors`` linear
    system, and likewise for items; ``fit`` alternates the two for ``iterations`` rounds.
    Scoring a user (seen in ``fit`` or not) solves that user's system against the fitted item
    factors, then ranks items by ``u . v_i``.

    Parameters
    ----------
    factors : int, default=64
        Dimension of the user and item vectors.
    regularization : float, default=0.01
        Weight of the L2 penalty on the vectors.
    alpha : float, default=40.0
        Confidence gained per unit of interaction: an observed pair weighs ``1 + alpha * x``
        against 1 for an unobserved one. 40 is the value found best by Hu et al. [1]_;
        tune it (with ``regularization``) on validation users.
    iterations : int, default=15
        Rounds of alternating updates (each updates all users, then all items).
    dtype : {"float64", "float32"}, default="float64"
        Precision of the factors and of the linear systems. float32 is faster (about 1.5x
        on a CPU, much more on consumer GPUs) but its Cholesky solves can fail on badly
        conditioned systems (tiny ``regularization``, huge values in ``X``); the error then
        says so.
    n_recommendations : int, default=10
        Number of items marked per user by :meth:`predict`.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device for fitting and scoring; "auto" uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial item factors; with an int, fitting on the CPU is reproducible.
    verbose : bool or int, default=False
        Show a progress bar over the iterations with the objective when true (any
        non-zero integer, as in scikit-learn).

    Attributes
    ----------
    item_factors_ : torch.Tensor of shape (n_items, factors)
        Item vectors ``v_i``, on ``device_`` (pickled on the CPU).
    history_ : dict of list
        Per-iteration ``loss`` (the objective above, after the item update) and ``seconds``.
    device_ : str
        Device used for fitting.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    EASERecommender : Linear item-to-item model with a closed-form solution.
    PopularityRecommender : Most popular items, the same for every user.

    Notes
    -----
    The system of user ``u`` is ``(V^T V + V^T (C_u - I) V + regularization I) u_u =
    V^T C_u p_u``. Because ``C_u - I`` is zero on unobserved items, only the user's own
    items enter beyond the shared ``V^T V``; each batch of users gathers the vectors of their
    items (padded to the longest row of the batch, users sorted by length), forms its
    systems with a batched matrix product and solves them exactly by Cholesky. The cost of
    one iteration is ``O(nnz * factors^2 + (n_users + n_items) * factors^3)``.

    User vectors are not kept after ``fit``: they are recomputed from the interactions at
    scoring time (one half-step), which gives exactly the update that the next training
    iteration would make.

    References
    ----------
    .. [1] Y. Hu, Y. Koren and C. Volinsky, "Collaborative Filtering for Implicit Feedback
       Datasets", ICDM 2008.

    Examples
    --------
    >>> from skvaecf import ALSRecommender
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(300, 50, random_state=0).X
    >>> model = ALSRecommender(factors=8, iterations=5, device="cpu", random_state=0).fit(X)
    >>> model.item_factors_.shape
    torch.Size([50, 8])
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints = {
        "factors": [Interval(Integral, 1, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "iterations": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions(set(_DTYPES))],
        "n_recommendations": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, factors=64, regularization=0.01, alpha=40.0, iterations=15,
                 dtype="float64", n_recommendations=10, device="auto", random_state=None,
                 verbose=False):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.dtype = dtype
        self.n_recommendations = n_recommendations
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, X: sp.csr_matrix, validation_data) -> None:
        device = resolve_device(self.device)
        streams = make_generators(self.random_state, device)
        n_users, n_items = X.shape
        logger.info("fitting ALS with %d factors on %d users x %d items (%d interactions) "
                    "on %s", self.factors, n_users, n_items, X.nnz, device)

        dtype = _DTYPES[self.dtype]
        user_rows = _padded_batches(X, self.alpha, self.factors, device, dtype)
        item_rows = _padded_batches(X.T.tocsr(), self.alpha, self.factors, device, dtype)
        # Drawn in float32 whatever the dtype, so both precisions start from the same point.
        item_factors = 0.01 * torch.randn(n_items, self.factors,
                                          generator=streams.initialisation)
        item_factors = item_factors.to(device=device, dtype=dtype)

        history = {"loss": [], "seconds": []}
        progress = tqdm(range(self.iterations), desc=type(self).__name__, unit="iteration",
                        disable=not self.verbose)
        for _ in progress:
            start = time.perf_counter()
            user_factors = _solve_half_step(user_rows, item_factors, n_users,
                                            self.regularization)
            item_factors = _solve_half_step(item_rows, user_factors, n_items,
                                            self.regularization)
            loss = _objective(user_rows, user_factors, item_factors, self.regularization)

            history["loss"].append(loss)
            history["seconds"].append(time.perf_counter() - start)
            progress.set_postfix(loss=f"{loss:.4g}")
            logger.debug("iteration %d: loss %.6g in %.2f s", len(history["loss"]), loss,
                         history["seconds"][-1])

        self.item_factors_ = item_factors
        self.history_ = history
        self.device_ = str(device)

    def user_factors(self, X) -> np.ndarray:
        """Vectors of the users given their interactions, against the fitted item vectors.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Interactions of the users; they need not have been seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_users, factors) and the dtype of ``dtype``
            The minimiser of the objective over each user's vector with the items fixed.
        """
        X = self._check_inference_input(X)
        with torch.no_grad():
            return self._fold_in(X).cpu().numpy()

    def _fold_in(self, X: sp.csr_matrix) -> torch.Tensor:
        device = inference_device(self.device_)
        if self.item_factors_.device != device:
            self.item_factors_ = self.item_factors_.to(device)
        rows = _padded_batches(X, self.alpha, self.item_factors_.shape[1], device,
                               self.item_factors_.dtype)
        return _solve_half_step(rows, self.item_factors_, X.shape[0], self.regularization)

    def _score_batch(self, X_batch: sp.csr_matrix) -> torch.Tensor:
        return self._fold_in(X_batch) @ self.item_factors_.T


@dataclass
class _PaddedRows:
    """Some rows of a sparse matrix, padded to the same length, on the device.

    Attributes
    ----------
    targets : LongTensor of shape (n_rows,)
        Indices of the rows (users, or items) in the matrix.
    columns : LongTensor of shape (n_rows, length)
        Column indices of each row's entries; padding points at one past the last column.
    weights : FloatTensor of shape (n_rows, length)
        ``alpha * x`` for each entry, 0 for padding.
    """

    targets: torch.Tensor
    columns: torch.Tensor
    weights: torch.Tensor


def _padded_batches(R: sp.csr_matrix, alpha: float, factors: int, device: torch.device,
                    dtype: torch.dtype) -> list[_PaddedRows]:
    """Split the rows of ``R`` into padded batches of rows of similar length.

    Rows are sorted by length so that padding stays small, and a batch holds at most
    ``_MAX_GATHERED_PER_BATCH`` gathered values and as many ``factors x factors`` systems.
    """
    lengths = np.diff(R.indptr)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    max_rows = max(1, _MAX_GATHERED_PER_BATCH // (factors * factors))
    batches = []

    first = 0
    while first < len(order):
        # Padded size of a batch ending at each later row; it grows with the last row.
        window = np.maximum(sorted_lengths[first:first + max_rows], 1)
        size = np.arange(1, len(window) + 1) * window * factors
        count = max(1, int(np.searchsorted(size, _MAX_GATHERED_PER_BATCH, side="right")))
        batches.append(_pad_rows(R, order[first:first + count], alpha, device, dtype))
        first += count
    return batches


def _pad_rows(R: sp.csr_matrix, rows: np.ndarray, alpha: float, device: torch.device,
              dtype: torch.dtype) -> _PaddedRows:
    """Gather the entries of ``rows`` into dense ``(len(rows), longest row)`` arrays."""
    lengths = np.diff(R.indptr)[rows]
    width = int(lengths.max()) if len(rows) else 0
    columns = np.full((len(rows), width), R.shape[1], dtype=np.int64)
    weights = np.zeros((len(rows), width), dtype=np.float64)

    within = np.arange(width)[None, :] < lengths[:, None]
    positions = (R.indptr[rows][:, None] + np.arange(width)[None, :])[within]
    columns[within] = R.indices[positions]
    weights[within] = alpha * R.data[positions]

    return _PaddedRows(torch.from_numpy(rows.astype(np.int64)).to(device),
                       torch.from_numpy(columns).to(device),
                       torch.from_numpy(weights).to(device=device, dtype=dtype))


def _solve_half_step(batches: list[_PaddedRows], fixed: torch.Tensor, n_targets: int,
                     regularization: float) -> torch.Tensor:
    """Exact least-squares vectors of every target row, the other side's vectors fixed."""
    factors = fixed.shape[1]
    shared = fixed.T @ fixed
    shared.diagonal().add_(regularization)
    # A zero vector at the padding index makes padded entries contribute nothing.
    padded_fixed = torch.cat([fixed, fixed.new_zeros(1, factors)])
    solution = fixed.new_zeros(n_targets, factors)

    for batch in batches:
        gathered = padded_fixed[batch.columns]
        lhs = shared + gathered.transpose(1, 2) @ (batch.weights.unsqueeze(-1) * gathered)
        rhs = gathered.transpose(1, 2) @ (1.0 + batch.weights).unsqueeze(-1)
        cholesky, info = torch.linalg.cholesky_ex(lhs)
        if bool((info != 0).any()):
            raise ValueError("ALS systems are not numerically positive definite; increase "
                             f"regularization (now {regularization}).")
        solution[batch.targets] = torch.cholesky_solve(rhs, cholesky).squeeze(-1)
    return solution


def _objective(user_batches: list[_PaddedRows], user_factors: torch.Tensor,
               item_factors: torch.Tensor, regularization: float) -> float:
    """The weighted squared error over all pairs plus the penalty, in float64.

    Over all pairs the error is ``sum (u . v)^2``, i.e. ``<U^T U, V^T V>``; the observed
    pairs then replace their ``(u . v)^2`` by ``c (1 - u . v)^2``.
    """
    users, items = user_factors.double(), item_factors.double()
    total = ((users.T @ users) * (items.T @ items)).sum()
    padded_items = torch.cat([items, items.new_zeros(1, items.shape[1])])

    for batch in user_batches:
        predicted = (padded_items[batch.columns] * users[batch.targets].unsqueeze(1)).sum(-1)
        observed = batch.columns < items.shape[0]
        confidence = 1.0 + batch.weights.double()
        terms = confidence * (1.0 - predicted) ** 2 - predicted ** 2
        total = total + terms[observed].sum()

    total = total + regularization * (users.square().sum() + items.square().sum())
    return float(total)
