"""Mult-VAE (Liang et al., 2018) as a scikit-learn estimator."""

from __future__ import annotations

import logging
import numbers
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from skvaecf._device import RandomStreams, inference_device, make_generators, resolve_device
from skvaecf._validation import check_interactions
from skvaecf.base import BaseRecommender
from skvaecf.model_selection import fold_in_split
from skvaecf.models._network import SparseBatch, VAENetwork
from skvaecf.models._training import (MultVAEObjective, TrainingCheckpoint, TrainingConfig,
                                      TrainingState, VALIDATION_METRIC, make_checkpoint,
                                      resume_training, run_epoch, start_training, train_vae)

logger = logging.getLogger(__name__)


class MultVAERecommender(BaseRecommender):
    """Variational autoencoder with a multinomial likelihood for collaborative filtering.

    Each user's interaction row ``x`` is encoded into a diagonal Gaussian posterior
    ``q(z | x) = N(mu(x), diag sigma^2(x))`` and decoded into a softmax over all items. The
    model minimises ``-sum_i x_i log softmax(f(z))_i + beta_t KL(q(z | x) || N(0, I))``, where
    the encoder reads the L2-normalised row with input dropout and ``beta_t`` grows linearly
    from 0 to ``beta`` over ``anneal_steps`` gradient steps. Items are scored by decoding the
    posterior mean, so users unseen in ``fit`` are handled by a single forward pass.

    Parameters
    ----------
    hidden_dims : tuple of int, default=(600,)
        Sizes of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int, default=200
        Size of the latent code ``z``.
    dropout : float, default=0.5
        Probability of masking each input interaction during training.
    beta : float, default=0.2
        Final (cap) weight of the KL term.
    anneal_steps : int, default=200_000
        Length of the KL annealing: after ``t`` gradient steps the KL weight is
        ``min(beta, t / anneal_steps)``, as in the paper's code, so it reaches ``beta`` after
        ``beta * anneal_steps`` steps; 0 uses ``beta`` from the first step. With the paper's
        200,000 steps on a small dataset the weight stays near 0 (ML-1M has about 10 steps an
        epoch); to reach the cap after a fraction ``f`` of training, use
        ``anneal_steps = f * epochs * ceil(n_users / batch_size) / beta``.
    learning_rate : float, default=1e-3
        Adam's step size.
    weight_decay : float, default=0.0
        Adam's L2 penalty.
    batch_size : int, default=500
        Users per gradient step.
    epochs : int, default=200
        Maximum number of passes over the training users.
    validation_fraction : float or None, default=0.1
        When ``fit`` gets no ``validation_data``, this fraction of the users of ``X`` is set
        aside (not trained on), each of its rows is split 80/20 into fold-in and held-out, and
        the epoch with the best NDCG@100 on them is kept. ``None`` trains on all users and
        keeps the last epoch.
    patience : int or None, default=None
        Stop after this many epochs without a better validation NDCG@100. ``None`` runs all
        ``epochs``, as in the paper.
    n_recommendations : int, default=10
        Number of items marked per user by :meth:`predict`.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device for training; "auto" uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seed of weight initialisation, shuffling, dropout masks and sampling. With an int,
        training on the CPU is reproducible. Global random generators are never touched.
    verbose : bool or int, default=False
        Show a progress bar with the loss terms and the validation NDCG@100 when true
        (any non-zero integer, as in scikit-learn).

    Attributes
    ----------
    network_ : torch.nn.Module
        The trained encoder and decoder: the best epoch's weights after :meth:`fit`, the
        latest epoch's after :meth:`partial_fit`.
    history_ : dict of list
        Per-epoch ``loss``, ``nll``, ``kl``, ``beta``, ``seconds`` and, with validation,
        ``val_ndcg@100``.
    best_epoch_ : int
        Epoch with the best validation NDCG@100 (the last epoch without validation).
        :meth:`fit` keeps its weights.
    best_score_ : float
        Validation NDCG@100 of that epoch (NaN without validation).
    n_steps_ : int
        Gradient steps taken.
    device_ : str
        Device used for training.
    n_features_in_ : int
        Number of items.

    See Also
    --------
    AnchoredVAERecommender : Mult-VAE with item-anchor alignment of the posteriors.

    Notes
    -----
    Memory and time grow with ``n_items * hidden_dims[0]``: the output layer scores every
    item for every user of a batch. The first layer reads the sparse rows directly, so its
    cost grows with the number of interactions only. Counts are used as multinomial counts;
    binarise ``X`` first (e.g. with :class:`sklearn.preprocessing.Binarizer`) for the paper's
    click setting.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational Autoencoders
       for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> from skvaecf import MultVAERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(300, 50, random_state=0).X
    >>> model = MultVAERecommender(hidden_dims=(32,), latent_dim=8, epochs=3,
    ...                            anneal_steps=0, device="cpu", random_state=0).fit(X)
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints = {
        "hidden_dims": [tuple, list],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "anneal_steps": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "n_recommendations": [Interval(Integral, 1, None, closed="left")],
        "device": [StrOptions({"auto"}), str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_dims=(600,), latent_dim=200, dropout=0.5, beta=0.2,
                 anneal_steps=200_000, learning_rate=1e-3, weight_decay=0.0, batch_size=500,
                 epochs=200, validation_fraction=0.1, patience=None, n_recommendations=10,
                 device="auto", random_state=None, verbose=False):
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.dropout = dropout
        self.beta = beta
        self.anneal_steps = anneal_steps
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.n_recommendations = n_recommendations
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -------------------------------------------------------------- hooks for subclasses
    def _make_objective(self, n_items: int, generator: torch.Generator) -> MultVAEObjective:
        """The training objective; subclasses return an extended one."""
        return MultVAEObjective(self.beta, self.anneal_steps, self.dropout)

    def _store_objective(self, objective: MultVAEObjective) -> None:
        """Keep what the objective learned as fitted attributes; nothing for Mult-VAE."""

    # -------------------------------------------------------------- fitting
    def _check_hidden_dims(self) -> tuple[int, ...]:
        dims = tuple(self.hidden_dims)
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 1
                   for d in dims):
            raise ValueError(f"hidden_dims must be a tuple of positive integers, got "
                             f"{self.hidden_dims!r}.")
        return tuple(int(d) for d in dims)

    def _new_model(self, n_items: int) -> tuple[torch.device, RandomStreams, VAENetwork,
                                                 MultVAEObjective]:
        """Device, random streams, network and objective of a training that starts now."""
        hidden_dims = self._check_hidden_dims()
        device = resolve_device(self.device)
        streams = make_generators(self.random_state, device)
        network = VAENetwork(n_items, hidden_dims, self.latent_dim, streams.initialisation)
        objective = self._make_objective(n_items, streams.auxiliary)
        return device, streams, network, objective

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(self.epochs, self.batch_size, self.learning_rate,
                              self.weight_decay, self.patience, self.verbose,
                              description=type(self).__name__)

    def _fit(self, X: sp.csr_matrix, validation_data) -> None:
        # fit starts afresh: a later partial_fit must not resume an older training.
        self.__dict__.pop("_training_state", None)
        device, streams, network, objective = self._new_model(X.shape[1])

        X_train, validation = self._training_users(X, validation_data, streams.numpy)
        logger.info("training %s on %d users x %d items (%d interactions) on %s",
                    type(self).__name__, X_train.shape[0], X.shape[1], X_train.nnz, device)

        result = train_vae(network, objective, X_train, self._training_config(),
                           validation=validation, device=device, numpy_rng=streams.numpy,
                           generator=streams.training)
        self._store_training(network, objective, result, device)

    def _store_training(self, network, objective, record, device: torch.device) -> None:
        """Fitted attributes from a finished ``fit`` or from the state of ``partial_fit``."""
        self.network_ = network
        self.history_ = record.history
        self.best_epoch_ = record.best_epoch
        self.best_score_ = record.best_score
        self.n_steps_ = record.n_steps
        self.device_ = str(device)
        self._store_objective(objective)

    def partial_fit(self, X, y=None, *, validation_data=None):
        """Train one more epoch on ``X``; the first call creates the model.

        The first call validates the parameters and ``X``, builds the network, the
        objective and the optimizer from the parameters, and keeps them (with the random
        streams) between calls; each call then runs one epoch over the users of ``X``, which
        may differ from call to call but must have the same items. This is what searches
        with pruning need: a trial can be scored after every epoch and stopped early.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Non-negative interactions of the training users, all of them trained on.
        y : None
            Ignored; present for API consistency.
        validation_data : tuple (X_fold_in, X_held_out), default=None
            Interactions of separate validation users. NDCG@100 on them is recorded in
            ``history_["val_ndcg@100"]``, and ``best_epoch_`` / ``best_score_`` follow the
            best epoch so far; the model still holds the latest epoch's weights.

        Returns
        -------
        self : object
            The recommender, trained one epoch more.

        Notes
        -----
        ``epochs``, ``patience``, ``validation_fraction`` and ``verbose`` are for
        :meth:`fit` and have no effect here: the caller decides how many epochs to run and
        when to stop. Parameters changed with ``set_params`` after the first call have no
        effect until training starts anew. :meth:`fit` always starts anew, and so does the
        first ``partial_fit`` after a ``fit``, with a warning: the model ``fit`` trained is
        replaced. With the same ``random_state``, ``n``
        calls on the same ``X`` give the model of ``fit`` with ``epochs=n`` and
        ``validation_fraction=None``. The optimizer's state (twice the size of the network
        for Adam) is kept, and pickled, so that a pickled model can resume training.

        Examples
        --------
        >>> from skvaecf import MultVAERecommender
        >>> from skvaecf.datasets import make_interactions
        >>> X = make_interactions(300, 50, random_state=0).X
        >>> model = MultVAERecommender(hidden_dims=(32,), latent_dim=8, anneal_steps=0,
        ...                            device="cpu", random_state=0)
        >>> for epoch in range(3):
        ...     model = model.partial_fit(X)
        >>> model.history_["epoch"]
        [1.0, 2.0, 3.0]
        """
        first_call = not hasattr(self, "_training_state")
        if first_call and hasattr(self, "n_features_in_"):
            warnings.warn(f"partial_fit after fit starts a new {type(self).__name__}: fit "
                          "keeps no optimizer state to resume from, so the model it trained "
                          "is replaced. Use partial_fit from the start to train epoch by "
                          "epoch.", UserWarning, stacklevel=2)
        if first_call:
            self._validate_params()
        X = check_interactions(X, estimator=self, reset=first_call)
        if X.nnz == 0:
            raise ValueError("X has no interactions (all entries are zero); cannot train.")
        if validation_data is not None:
            validation_data = self._check_validation_data(validation_data)

        state = self._start_partial_training(X) if first_call else self._resumed_training()
        run_epoch(state, X, validation=validation_data, keep_best_weights=False)
        state.network.eval()

        self._training_state = state
        self._store_training(state.network, state.objective, state, state.device)
        return self

    def _start_partial_training(self, X: sp.csr_matrix) -> TrainingState:
        device, streams, network, objective = self._new_model(X.shape[1])
        logger.info("starting epoch-by-epoch training of %s on %d items on %s",
                    type(self).__name__, X.shape[1], device)
        return start_training(network, objective, self._training_config(), device=device,
                              numpy_rng=streams.numpy, generator=streams.training)

    def _resumed_training(self) -> TrainingState:
        """The kept training state; rebuilt on the device after unpickling."""
        state = self._training_state
        if isinstance(state, TrainingCheckpoint):
            state = resume_training(state, self.network_, inference_device(self.device_))
        return state

    def _training_users(self, X, validation_data, rng: np.random.Generator):
        """Training matrix and validation pair, setting users aside when none is given."""
        if validation_data is not None or self.validation_fraction is None:
            return X, validation_data

        n_validation = int(round(self.validation_fraction * X.shape[0]))
        if n_validation < 1 or n_validation >= X.shape[0]:
            warnings.warn(f"validation_fraction={self.validation_fraction} of {X.shape[0]} "
                          "users leaves no validation or no training user; training on all "
                          "users and keeping the last epoch.", UserWarning, stacklevel=4)
            return X, None

        order = rng.permutation(X.shape[0])
        held_users, train_users = np.sort(order[:n_validation]), np.sort(order[n_validation:])
        fold_in, held_out = fold_in_split(X[held_users], 0.2,
                                          random_state=int(rng.integers(2**31 - 1)))
        if held_out.nnz == 0:
            warnings.warn("no validation user has enough interactions (5) to hold some out; "
                          "training on all users and keeping the last epoch.", UserWarning,
                          stacklevel=4)
            return X, None
        return X[train_users], (fold_in, held_out)

    # -------------------------------------------------------------- inference
    def _score_batch(self, X_batch: sp.csr_matrix) -> torch.Tensor:
        device = inference_device(self.device_)
        network = self.network_.to(device).eval()
        return network.item_scores(SparseBatch.from_csr(X_batch, device))

    def encode(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means and variances of the users, without input dropout.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_users, n_items)
            Interactions of the users.

        Returns
        -------
        mean, variance : ndarray of shape (n_users, latent_dim) and dtype float32
        """
        X = self._check_inference_input(X)
        device = inference_device(self.device_)
        network = self.network_.to(device).eval()
        means, variances = [], []

        with torch.no_grad():
            for start in range(0, X.shape[0], 4096):
                mean, log_var = network.encode(SparseBatch.from_csr(X[start:start + 4096],
                                                                    device))
                means.append(mean.cpu().numpy())
                variances.append(log_var.exp().cpu().numpy())
        return np.concatenate(means), np.concatenate(variances)

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        """Pickle on the CPU; the state of ``partial_fit`` as a checkpoint without tensors
        on a GPU and without a second copy of the network."""
        state = super().__getstate__()
        training = state.get("_training_state")
        if isinstance(training, TrainingState):
            state["_training_state"] = make_checkpoint(training)
        return state


__all__ = ["MultVAERecommender", "VALIDATION_METRIC"]
