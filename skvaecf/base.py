"""The estimator contract shared by every recommender of the package.

A recommender is fitted on a users x items interaction matrix and then scores, ranks and
evaluates *any* users given their known interactions (fold-in rows), including users it never
saw in ``fit``. Subclasses implement two methods:

* ``_fit(X, validation_data)`` trains on a validated float32 CSR matrix;
* ``_score_batch(X_batch)`` returns the scores of a CSR batch of users as a torch tensor.

Everything else (input checking, batching, top-k on the device, the sparse ``predict``
output, ``score`` with the strong-generalisation split, pickling of torch state) lives here.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from skvaecf._ranking import rank_top_k, score_all
from skvaecf._validation import check_held_out, check_interactions, check_k
from skvaecf.metrics import evaluate_recommender
from skvaecf.model_selection import fold_in_split

logger = logging.getLogger(__name__)

#: Seed of the fold-in/held-out split that ``score`` makes when it is given no ``y``.
SCORE_SPLIT_SEED = 0
#: Users with fewer interactions are not split by ``score`` without ``y``.
SCORE_MIN_INTERACTIONS = 5
#: Metric returned by ``score``.
SCORE_METRIC = "ndcg@100"


class BaseRecommender(BaseEstimator):
    """Base class of the recommenders: ``fit``, ``decision_function``, ``recommend``,
    ``predict`` and ``score`` over scipy sparse users x items matrices.

    Rows of ``X`` are users and columns are items; values are non-negative interaction
    strengths (binary clicks or counts). Subclasses set the parameter
    ``n_recommendations`` used by :meth:`predict`.

    Examples
    --------
    A subclass stores its parameters, declares their constraints, and implements ``_fit``
    and ``_score_batch``; here every user gets the column index as the item's score:

    >>> import torch
    >>> from skvaecf import BaseRecommender
    >>> class IndexRecommender(BaseRecommender):
    ...     _parameter_constraints = {"n_recommendations": [int]}
    ...     def __init__(self, n_recommendations=10):
    ...         self.n_recommendations = n_recommendations
    ...     def _fit(self, X, validation_data):
    ...         self.n_items_ = X.shape[1]
    ...     def _score_batch(self, X_batch):
    ...         scores = torch.arange(self.n_items_, dtype=torch.float32)
    ...         return scores.repeat(X_batch.shape[0], 1)
    >>> model = IndexRecommender().fit([[1, 0, 0, 1], [0, 1, 0, 0]])
    >>> model.recommend([[0, 0, 0, 1]], k=2)
    array([[2, 1]])
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = False
        return tags

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, *, validation_data=None):
        """Fit the recommender on the interactions of the training users.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Non-negative interactions of the training users.
        y : None
            Ignored; present for API consistency.
        validation_data : tuple (X_fold_in, X_held_out), default=None
            Interactions of separate validation users, split into the part the model sees
            and the part it must rank. Models trained by epochs keep the epoch with the best
            NDCG@100 on it; others ignore it.

        Returns
        -------
        self : object
            The fitted recommender.
        """
        self._validate_params()
        X = check_interactions(X, estimator=self, reset=True)
        if X.nnz == 0:
            raise ValueError("X has no interactions (all entries are zero); cannot fit.")

        if validation_data is not None:
            validation_data = self._check_validation_data(validation_data)
        self._fit(X, validation_data)
        return self

    def _check_validation_data(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_fold_in, X_held_out) of "
                             "users x items matrices.")
        fold_in = check_interactions(validation_data[0], name="validation_data[0]")
        if fold_in.shape[1] != self.n_features_in_:
            raise ValueError(f"validation_data has {fold_in.shape[1]} items but X has "
                             f"{self.n_features_in_}; they must share the item columns.")
        held_out = check_held_out(fold_in, validation_data[1], name="validation_data[1]")
        return fold_in, held_out

    def _fit(self, X: sp.csr_matrix, validation_data) -> None:
        raise NotImplementedError

    def _score_batch(self, X_batch: sp.csr_matrix) -> torch.Tensor:
        raise NotImplementedError

    # ------------------------------------------------------------------ inference
    def _check_inference_input(self, X) -> sp.csr_matrix:
        check_is_fitted(self)
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] != self.n_features_in_:
            raise ValueError(f"X has {shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input: the columns "
                             f"of X must be the same {self.n_features_in_} items as in fit.")
        return check_interactions(X, estimator=self, reset=False)

    def decision_function(self, X) -> np.ndarray:
        """Relevance scores of every item for each user; higher is more relevant.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Known interactions (fold-in) of the users to score; they need not have been
            seen in ``fit``. Users with no interactions get the model's default scores.

        Returns
        -------
        scores : ndarray of shape (n_users, n_items) and dtype float32
        """
        X = self._check_inference_input(X)
        return score_all(self._score_batch, X)

    def recommend(self, X, k: int = 10, exclude_seen: bool = True) -> np.ndarray:
        """The ``k`` best items for each user, best first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Known interactions (fold-in) of the users.
        k : int, default=10
            Number of items per user, between 1 and ``n_items``.
        exclude_seen : bool, default=True
            Never recommend an item the user already has in ``X``. A user with fewer than
            ``k`` unseen items gets a list padded with -1 at the end.

        Returns
        -------
        items : ndarray of shape (n_users, k) and dtype int64
            Column indices of the recommended items.
        """
        X = self._check_inference_input(X)
        k = check_k(k, self.n_features_in_)
        if not isinstance(exclude_seen, (bool, np.bool_)):
            raise TypeError(f"exclude_seen must be True or False, got {exclude_seen!r}.")
        return rank_top_k(self._score_batch, X, k, exclude_seen=exclude_seen)

    def predict(self, X) -> sp.csr_matrix:
        """Indicator matrix of each user's top ``n_recommendations`` unseen items.

        A user with fewer unseen items than ``n_recommendations`` gets all of them marked.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Known interactions (fold-in) of the users.

        Returns
        -------
        scipy.sparse.csr_matrix of shape (n_users, n_items) and dtype int8
            1 for a recommended item, 0 elsewhere (sklearn's multilabel-indicator layout).
        """
        X = self._check_inference_input(X)
        k = min(self.n_recommendations, self.n_features_in_)
        top = rank_top_k(self._score_batch, X, k, exclude_seen=True)

        rows = np.repeat(np.arange(top.shape[0]), k)
        cols = top.ravel()
        found = cols >= 0
        data = np.ones(int(found.sum()), dtype=np.int8)
        return sp.csr_matrix((data, (rows[found], cols[found])), shape=X.shape)

    def score(self, X, y=None) -> float:
        """Mean NDCG@100 of the recommendations (strong-generalisation protocol).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            With ``y``: the fold-in interactions. Without ``y``: all interactions of the
            evaluation users; each row is split 80/20 into fold-in and held-out parts with a
            fixed seed (:func:`skvaecf.model_selection.fold_in_split`), so that sklearn's
            cross-validation over users performs strong-generalisation evaluation. Users with
            fewer than 5 interactions are then left out of the mean; if no user has 5,
            ``score`` raises a ``ValueError``.
        y : {array-like, sparse matrix} of shape (n_users, n_items), default=None
            Held-out interactions of the same users.

        Returns
        -------
        float
            NDCG@100 averaged over users with at least one held-out item.
        """
        X = self._check_inference_input(X)
        if y is None:
            if not (np.diff(X.indptr) >= SCORE_MIN_INTERACTIONS).any():
                raise ValueError(
                    f"score(X) without y holds out 20 % of each user's interactions, but no "
                    f"user of X has the {SCORE_MIN_INTERACTIONS} interactions needed to be "
                    "split; pass the held-out interactions as y, score(X_fold_in, y).")
            X, y = fold_in_split(X, 0.2, min_interactions=SCORE_MIN_INTERACTIONS,
                                 random_state=SCORE_SPLIT_SEED)
        else:
            y = check_held_out(X, y)
        return evaluate_recommender(self, X, y, [SCORE_METRIC])[SCORE_METRIC]

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        """Pickle torch state on the CPU, so a GPU-trained model opens without a GPU."""
        state = super().__getstate__()
        for name, value in list(state.items()):
            if isinstance(value, torch.nn.Module):
                state[name] = copy.deepcopy(value).cpu()
            elif isinstance(value, torch.Tensor):
                state[name] = value.detach().cpu().clone()
        return state
