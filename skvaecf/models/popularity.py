"""Most-popular-items baseline: the floor that any personalised recommender must beat."""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval

from skvaecf.base import BaseRecommender

logger = logging.getLogger(__name__)


class PopularityRecommender(BaseRecommender):
    """Recommend the items that the most training users interacted with.

    Every user gets the same scores: the number of training users with a non-zero entry
    for the item. Combined with ``exclude_seen`` (the default of :meth:`recommend` and of
    :meth:`predict`), each user is offered the most popular items they do not have yet.

    Parameters
    ----------
    n_recommendations : int, default=10
        Number of items marked per user by :meth:`predict`.

    Attributes
    ----------
    item_counts_ : ndarray of shape (n_items,) and dtype int64
        Number of training users who interacted with each item.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    EASERecommender : Linear item-to-item model with a closed-form solution.
    ALSRecommender : Implicit-feedback matrix factorisation.

    Notes
    -----
    Interaction strengths are ignored: an item counts once per user however large the
    user's value for it. The order among items with equal counts is left to
    :func:`torch.topk`.

    Examples
    --------
    >>> import numpy as np
    >>> from skvaecf import PopularityRecommender
    >>> X = np.array([[1, 1, 0, 0],
    ...               [0, 1, 0, 1],
    ...               [0, 1, 0, 1]])
    >>> model = PopularityRecommender().fit(X)
    >>> model.item_counts_
    array([1, 3, 0, 2])
    >>> model.recommend([[0, 1, 0, 0]], k=2)
    array([[3, 0]])
    """

    _parameter_constraints = {
        "n_recommendations": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_recommendations=10):
        self.n_recommendations = n_recommendations

    def _fit(self, X: sp.csr_matrix, validation_data) -> None:
        # X is canonical CSR without explicit zeros, so stored entries per column = users.
        self.item_counts_ = np.bincount(X.indices, minlength=X.shape[1]).astype(np.int64)
        logger.info("counted the users of %d items over %d training users", X.shape[1],
                    X.shape[0])

    def _score_batch(self, X_batch: sp.csr_matrix) -> torch.Tensor:
        # A real copy per user: the ranking writes -inf into the seen items of each row.
        counts = torch.from_numpy(self.item_counts_.astype(np.float32))
        return counts.repeat(X_batch.shape[0], 1)
