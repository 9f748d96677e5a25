"""Batched scoring and top-k ranking of users, without a dense users x items copy of X."""

from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp
import torch

#: Largest number of scores (users x items) computed at once: 2**25 float32 is 128 MiB.
_MAX_SCORES_PER_BATCH = 2**25


def users_per_batch(n_items: int, cap: int = 4096) -> int:
    """How many users to score at once so that a batch of scores stays within 128 MiB."""
    return int(max(1, min(cap, _MAX_SCORES_PER_BATCH // max(n_items, 1))))


def _check_no_nan(scores: torch.Tensor) -> None:
    """A NaN score has no rank: refuse it rather than return an arbitrary order."""
    if torch.isnan(scores).any():
        raise ValueError("the model gave NaN scores: its weights are not finite (training "
                         "diverged, or the input values are too large).")


def score_all(score_batch: Callable[[sp.csr_matrix], torch.Tensor], X: sp.csr_matrix
              ) -> np.ndarray:
    """Dense float32 scores of every user, computed batch by batch."""
    scores = np.empty(X.shape, dtype=np.float32)
    step = users_per_batch(X.shape[1])

    with torch.no_grad():
        for start in range(0, X.shape[0], step):
            batch_scores = score_batch(X[start:start + step])
            _check_no_nan(batch_scores)
            scores[start:start + step] = batch_scores.float().cpu().numpy()
    return scores


def rank_top_k(score_batch: Callable[[sp.csr_matrix], torch.Tensor], X: sp.csr_matrix, k: int,
               *, exclude_seen: bool = True) -> np.ndarray:
    """Top-k items per user, best first, ranking on the device that computed the scores.

    Parameters
    ----------
    score_batch : callable
        Maps a CSR batch of users to a ``(batch, n_items)`` torch tensor of scores.
    X : scipy.sparse.csr_matrix of shape (n_users, n_items)
        The users' known (fold-in) interactions.
    k : int
        Length of each list, at most ``n_items``.
    exclude_seen : bool, default=True
        Give the items of ``X`` a score of ``-inf`` so they are never recommended.

    Returns
    -------
    ndarray of shape (n_users, k) and dtype int64
        Item indices; where a user has fewer than ``k`` unseen items the list ends with -1.
    """
    top = np.empty((X.shape[0], k), dtype=np.int64)
    step = users_per_batch(X.shape[1])

    with torch.no_grad():
        for start in range(0, X.shape[0], step):
            batch = X[start:start + step]
            scores = score_batch(batch).float()
            _check_no_nan(scores)

            if exclude_seen and batch.nnz:
                rows = np.repeat(np.arange(batch.shape[0]), np.diff(batch.indptr))
                rows = torch.from_numpy(rows).to(scores.device)
                cols = torch.from_numpy(batch.indices.astype(np.int64)).to(scores.device)
                scores[rows, cols] = -torch.inf

            values, items = torch.topk(scores, k, dim=1)
            items[torch.isneginf(values)] = -1
            top[start:start + step] = items.cpu().numpy()
    return top
