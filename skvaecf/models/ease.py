"""EASE (Steck, 2019): a linear item-to-item model with a closed-form solution."""

from __future__ import annotations

import logging
import os
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval, StrOptions

from skvaecf._device import inference_device, resolve_device
from skvaecf.base import BaseRecommender

logger = logging.getLogger(__name__)

__all__ = ["EASERecommender"]

_DTYPES = {"float32": torch.float32, "float64": torch.float64}

#: Rows of the sparse Gram matrix made dense at once while copying it to a GPU.
_GRAM_ROWS_PER_BLOCK = 1024


class EASERecommender(BaseRecommender):
    """Embarrassingly shallow autoencoder: item-to-item weights in closed form.

    EASE learns an item x item weight matrix ``B`` with a zero diagonal, so that a user's
    scores ``x @ B`` rebuild the user's row ``x`` from the *other* items. The ridge
    regression ``min_B ||X - X B||^2 + l2 ||B||^2`` subject to ``diag(B) = 0`` has the
    closed form ``B = I - P / diag(P)`` (column ``j`` divided by ``P_jj``), where
    ``P = (X^T X + l2 I)^-1``. Scoring multiplies the fold-in rows by ``B``, so users unseen
    in ``fit`` need no extra step.

    Parameters
    ----------
    l2 : float, default=500.0
        Weight of the L2 penalty, added to the diagonal of the Gram matrix. The paper uses
        500 on ML-20M and Netflix and 200 on MSD; smaller data sets often want a smaller
        value (choose it on validation users).
    dtype : {"float32", "float64"}, default="float32"
        Precision of the Gram matrix, its inverse and ``B``. "float64" doubles the memory.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device of the inversion and of scoring; "auto" uses CUDA when available. A
        GPU that has too little memory or fails to allocate is replaced by the CPU with a
        warning.
    max_memory : int or None, default=None
        Bytes the two ``n_items x n_items`` matrices may take. ``None`` uses the memory the
        system reports as available: ``MemAvailable`` of ``/proc/meminfo`` (else the
        physical memory) on the CPU, the free memory of the device on a GPU.
    n_recommendations : int, default=10
        Number of items marked per user by :meth:`predict`.

    Attributes
    ----------
    item_weights_ : torch.Tensor of shape (n_items, n_items)
        The weight matrix ``B`` (diagonal zero), on ``device_``; pickled on the CPU.
    device_ : str
        Device the weights were computed on.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    ALSRecommender : Implicit-feedback matrix factorisation.
    PopularityRecommender : Most popular items, the same for every user.

    Notes
    -----
    Cost is driven by the number of items ``I``, not of users: the sparse Gram matrix
    ``X^T X`` is made dense and inverted by a Cholesky factorisation, ``O(I^3)`` time, and
    two dense ``I x I`` matrices are alive at the peak (``8 I^2`` bytes in float32: 1 GB for
    11k items, 6.7 GB each for Gowalla's 41k items). ``fit`` checks that need against
    ``max_memory`` before allocating and raises a :class:`MemoryError` stating both.
    Beyond roughly 50k items EASE stops being practical on a workstation; filter rare items
    first. The steps are logged (``logging`` at INFO) with their durations.

    References
    ----------
    .. [1] H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019.

    Examples
    --------
    >>> from skvaecf import EASERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(300, 50, random_state=0).X
    >>> model = EASERecommender(l2=50.0, device="cpu").fit(X)
    >>> model.item_weights_.shape
    torch.Size([50, 50])
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints = {
        "l2": [Interval(Real, 0, None, closed="neither")],
        "dtype": [StrOptions(set(_DTYPES))],
        "device": [StrOptions({"auto"}), str, torch.device],
        "max_memory": [Interval(Integral, 1, None, closed="left"), None],
        "n_recommendations": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, l2=500.0, dtype="float32", device="auto", max_memory=None,
                 n_recommendations=10):
        self.l2 = l2
        self.dtype = dtype
        self.device = device
        self.max_memory = max_memory
        self.n_recommendations = n_recommendations

    def _fit(self, X: sp.csr_matrix, validation_data) -> None:
        dtype = _DTYPES[self.dtype]
        device = self._device_with_room(X.shape[1], dtype)

        logger.info("computing the sparse Gram matrix of %d users x %d items",
                    X.shape[0], X.shape[1])
        start = time.perf_counter()
        X = X.astype(np.float64) if self.dtype == "float64" else X
        gram = (X.T @ X).tocsr()
        logger.info("Gram matrix: %d non-zeros in %.2f s", gram.nnz, time.perf_counter() - start)

        try:
            weights = _ease_weights(gram, float(self.l2), dtype, device)
        except torch.cuda.OutOfMemoryError:
            warnings.warn(f"EASE ran out of memory on {device}; solving on the CPU instead.",
                          UserWarning, stacklevel=3)
            torch.cuda.empty_cache()
            device = torch.device("cpu")
            _check_room(X.shape[1], dtype, device, self.max_memory, fatal=True)
            weights = _ease_weights(gram, float(self.l2), dtype, device)

        self.item_weights_ = weights
        self.device_ = str(device)

    def _device_with_room(self, n_items: int, dtype: torch.dtype) -> torch.device:
        """The requested device if the dense matrices fit there, else the CPU (or raise)."""
        device = resolve_device(self.device)
        if device.type == "cuda":
            if _check_room(n_items, dtype, device, self.max_memory, fatal=False):
                return device
            warnings.warn(f"EASE's dense matrices do not fit in the memory of {device}; "
                          "solving on the CPU instead.", UserWarning, stacklevel=4)
            device = torch.device("cpu")
        _check_room(n_items, dtype, device, self.max_memory, fatal=True)
        return device

    def _score_batch(self, X_batch: sp.csr_matrix) -> torch.Tensor:
        device = inference_device(self.device_)
        if self.item_weights_.device != device:
            self.item_weights_ = self.item_weights_.to(device)
        weights = self.item_weights_

        # x @ B is the sum of the rows of B of the user's items, weighted by x.
        items = torch.from_numpy(X_batch.indices.astype(np.int64)).to(device)
        offsets = torch.from_numpy(X_batch.indptr[:-1].astype(np.int64)).to(device)
        values = torch.from_numpy(X_batch.data).to(device=device, dtype=weights.dtype)
        return F.embedding_bag(items, weights, offsets, mode="sum", per_sample_weights=values)


def _dense_matrices_bytes(n_items: int, dtype: torch.dtype) -> int:
    """Bytes of the two dense ``n_items x n_items`` matrices alive at EASE's peak."""
    return 2 * n_items * n_items * torch.empty((), dtype=dtype).element_size()


def _available_memory(device: torch.device) -> int:
    """Bytes that the system reports as available on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _format_bytes(n_bytes: float) -> str:
    """A size in human units, such as ``'6.3 GiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n_bytes) < 1024 or unit == "GiB":
            return f"{n_bytes:.1f} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def _check_room(n_items: int, dtype: torch.dtype, device: torch.device, max_memory, *,
                fatal: bool) -> bool:
    """Whether the dense matrices fit in ``max_memory`` (or what ``device`` has free)."""
    need = _dense_matrices_bytes(n_items, dtype)
    limit = max_memory if max_memory is not None else _available_memory(device)
    source = "max_memory" if max_memory is not None else f"available on {device}"
    logger.info("EASE needs %s for two %d x %d matrices; %s %s", _format_bytes(need),
                n_items, n_items, _format_bytes(limit), source)

    if need <= limit:
        return True
    if fatal:
        raise MemoryError(
            f"EASE needs {_format_bytes(need)} for two dense {n_items} x {n_items} "
            f"{str(dtype).removeprefix('torch.')} matrices, but the limit is "
            f"{_format_bytes(limit)} ({source}). Reduce the number of items (filter rare "
            "ones), use dtype='float32', or raise max_memory if more memory is free.")
    return False


def _ease_weights(gram: sp.csr_matrix, l2: float, dtype: torch.dtype, device: torch.device
                  ) -> torch.Tensor:
    """``B = I - P / diag(P)`` with ``P = (G + l2 I)^-1``, keeping two dense matrices."""
    n_items = gram.shape[0]
    start = time.perf_counter()
    weights = torch.zeros((n_items, n_items), dtype=dtype, device=device)
    if device.type == "cpu":
        gram.astype(weights.numpy().dtype, copy=False).toarray(out=weights.numpy())
    else:
        for first in range(0, n_items, _GRAM_ROWS_PER_BLOCK):
            block = gram[first:first + _GRAM_ROWS_PER_BLOCK].toarray()
            weights[first:first + block.shape[0]] = torch.from_numpy(block).to(device)
    weights.diagonal().add_(l2)
    logger.info("dense Gram matrix on %s (%s) in %.2f s", device,
                _format_bytes(weights.numel() * weights.element_size()),
                time.perf_counter() - start)

    start = time.perf_counter()
    try:
        torch.linalg.cholesky(weights, out=weights)
    except torch.linalg.LinAlgError as exc:
        raise ValueError(f"the regularised Gram matrix is not numerically positive definite "
                         f"with l2={l2}; increase l2 or use dtype='float64'.") from exc
    logger.info("Cholesky factor of the Gram matrix in %.2f s", time.perf_counter() - start)

    start = time.perf_counter()
    torch.cholesky_inverse(weights, out=weights)
    logger.info("inverse of the Gram matrix from its factor in %.2f s",
                time.perf_counter() - start)

    # Column j of B is -P[:, j] / P[j, j]; the diagonal of I - P / diag(P) is zero.
    diagonal = weights.diagonal().clone()
    weights.div_(-diagonal)
    weights.fill_diagonal_(0.0)
    return weights
