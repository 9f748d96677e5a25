"""Mult-VAE with Personalized Item Alignment anchors (Vuong et al., ICLR 2026).

The estimator is Mult-VAE with one more training term: each item owns a learnable point (its
anchor) in the latent space, and every user's posterior, computed from the masked input, is
pulled towards the anchors of all the items the user consumed. Only the objective differs
from :class:`~skvaecf.models.vae.MultVAERecommender`; the training loop, the network and the
prediction are shared.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from sklearn.utils._param_validation import Interval

from skvaecf.models._network import SparseBatch
from skvaecf.models._training import MultVAEObjective
from skvaecf.models.vae import MultVAERecommender

logger = logging.getLogger(__name__)


class AnchoredObjective(MultVAEObjective):
    """Mult-VAE's negative ELBO plus the weighted anchor alignment loss.

    ``loss = -ELBO_beta(x; x_masked) + lambda_t * L_A(x)``, averaged over the users of a
    batch, with ``lambda_t = anchor_weight * min(1, t / anchor_warmup_steps)`` at gradient
    step ``t`` (``anchor_weight`` from the first step when ``anchor_warmup_steps`` is 0).

    Parameters
    ----------
    beta, anneal_steps, dropout
        As in :class:`~skvaecf.models._training.MultVAEObjective`.
    n_items, latent_dim : int
        Shape of the anchor table.
    anchor_weight : float
        Final weight ``lambda_A`` of the anchor loss.
    anchor_warmup_steps : int
        Gradient steps over which the weight rises linearly from 0 to ``anchor_weight``.
    anchor_init_scale : float
        Standard deviation of the normal initial anchors.
    generator : torch.Generator
        Source of the initial anchors (the estimator's auxiliary stream, so that the network
        initialisation, shuffling and dropout streams stay those of Mult-VAE).
    """

    def __init__(self, beta: float, anneal_steps: int, dropout: float, *, n_items: int,
                 latent_dim: int, anchor_weight: float, anchor_warmup_steps: int,
                 anchor_init_scale: float, generator: torch.Generator):
        super().__init__(beta, anneal_steps, dropout)
        self.anchor_weight = anchor_weight
        self.anchor_warmup_steps = anchor_warmup_steps
        initial = torch.randn(n_items, latent_dim, generator=generator) * anchor_init_scale
        self.anchors = nn.Parameter(initial)

    def anchor_weight_at(self, step: int) -> float:
        """Weight of the anchor loss after ``step`` gradient steps."""
        if self.anchor_warmup_steps == 0:
            return self.anchor_weight
        return self.anchor_weight * min(1.0, step / self.anchor_warmup_steps)

    def anchor_loss_per_user(self, batch: SparseBatch, mean: torch.Tensor,
                             log_var: torch.Tensor) -> torch.Tensor:
        """Closed-form ``L_A(x) = mean_{i in S_x} E_{z ~ q(z | x_h)} ||z - e_i||^2``.

        Computed as ``||mu - ebar_x||^2 + sum_j sigma_j^2 + mean_{i in S_x} ||e_i - ebar_x||^2``
        from the batch's sparse layout with ``embedding_bag`` means, using
        ``mean_i ||e_i - ebar_x||^2 = mean_i ||e_i||^2 - ||ebar_x||^2``: no per-interaction
        tensor of anchors is built, let alone ``users x items x latent``. ``S_x`` is every
        stored entry of the full (unmasked) row; users without any entry get 0.

        Returns
        -------
        Tensor of shape (n_users,)
        """
        centroid = F.embedding_bag(batch.items, self.anchors, batch.offsets, mode="mean")
        squared_norms = self.anchors.pow(2).sum(dim=1, keepdim=True)
        mean_squared_norm = F.embedding_bag(batch.items, squared_norms, batch.offsets,
                                            mode="mean").squeeze(1)
        spread = (mean_squared_norm - centroid.pow(2).sum(dim=1)).clamp(min=0.0)
        counts = torch.bincount(batch.rows, minlength=batch.n_users)

        alignment = (mean - centroid).pow(2).sum(dim=1) + log_var.exp().sum(dim=1) + spread
        return torch.where(counts > 0, alignment, torch.zeros_like(alignment))

    def regularizer(self, batch: SparseBatch, mean: torch.Tensor, log_var: torch.Tensor,
                    step: int) -> tuple[torch.Tensor | None, dict]:
        """``lambda_t * mean_batch L_A``; ``None`` (no term at all) while ``lambda_t`` is 0.

        Leaving the term out, rather than adding it times zero, keeps the computation graph
        and so the floating-point result identical to Mult-VAE's; the term's value is still
        recorded for the history.
        """
        weight = self.anchor_weight_at(step)
        terms = {"anchor_weight": weight}
        if weight == 0.0:
            with torch.no_grad():
                terms["anchor"] = self.anchor_loss_per_user(batch, mean, log_var).mean()
            return None, terms

        anchor = self.anchor_loss_per_user(batch, mean, log_var).mean()
        terms["anchor"] = anchor.detach()
        return weight * anchor, terms


class AnchoredVAERecommender(MultVAERecommender):
    """Mult-VAE trained with Personalized Item Alignment anchors.

    Every item gets a learnable anchor ``e_i`` in the latent space, trained jointly with the
    VAE. During training, each user's posterior ``q(z | x_h)``, computed from the masked
    input ``x_h``, is pulled towards the anchors of all the items of the user's full row,
    which keeps a user near the same place whatever the mask, and so keeps latent
    neighbourhoods (the users who share gradient updates) stable. Prediction is exactly
    Mult-VAE's: the anchors are used in training only and kept as :attr:`anchors_` for
    inspection.

    Parameters
    ----------
    hidden_dims : tuple of int, default=(600,)
        Sizes of the encoder's hidden layers; the decoder mirrors them.
    latent_dim : int, default=200
        Size of the latent code ``z`` and of each anchor.
    dropout : float, default=0.5
        Probability of masking each input interaction during training.
    beta : float, default=0.2
        Final (cap) weight of the KL term.
    anneal_steps : int, default=200_000
        Length of the KL annealing: the KL weight is ``min(beta, t / anneal_steps)`` after
        ``t`` steps; see :class:`MultVAERecommender` for choosing it on small datasets.
    anchor_weight : float, default=1.0
        Weight ``lambda_A`` of the anchor loss. 0 trains exactly a Mult-VAE. The paper does
        not publish its value; 1.0 was the best of {0.01, 0.1, 1} on the validation users of
        MovieLens-1M (``benchmarks/anchored_ml1m.py``), the largest value tried. The anchor
        loss sums squared distances over the latent dimensions, so the useful weight
        depends on ``latent_dim`` and on the dataset: tune it.
    anchor_warmup_steps : int, default=0
        Gradient steps over which the anchor weight rises linearly from 0 to
        ``anchor_weight``; 0 applies the full weight from the first step. The paper ramps
        the weight in but publishes neither the form nor the length of its schedule.
    anchor_init_scale : float, default=0.01
        Standard deviation of the normal distribution the anchors start from (small, so
        that the anchors start near the prior mean). Not published in the paper.
    learning_rate : float, default=1e-3
        Adam's step size (for the network and the anchors).
    weight_decay : float, default=0.0
        Adam's L2 penalty (for the network and the anchors).
    batch_size : int, default=500
        Users per gradient step.
    epochs : int, default=200
        Maximum number of passes over the training users.
    validation_fraction : float or None, default=0.1
        Fraction of users set aside for choosing the best epoch when ``fit`` gets no
        ``validation_data``; see :class:`MultVAERecommender`.
    patience : int or None, default=None
        Stop after this many epochs without a better validation NDCG@100.
    n_recommendations : int, default=10
        Number of items marked per user by :meth:`predict`.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Torch device for training; "auto" uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seed of weight and anchor initialisation, shuffling, dropout masks and sampling.
        The anchors come from a stream of their own, so with ``anchor_weight=0`` the model
        is the Mult-VAE of the same ``random_state``, bit for bit.
    verbose : bool or int, default=False
        Show a progress bar with the loss terms and the validation NDCG@100 when true
        (any non-zero integer, as in scikit-learn).

    Attributes
    ----------
    anchors_ : ndarray of shape (n_items, latent_dim) and dtype float32
        The learned item anchors (of the best epoch). Not used for prediction.
    network_ : torch.nn.Module
        The trained encoder and decoder (the best epoch's weights).
    history_ : dict of list
        Per-epoch ``loss``, ``nll``, ``kl``, ``beta``, ``anchor`` (the mean anchor loss
        ``L_A`` before weighting), ``anchor_weight``, ``seconds`` and, with validation,
        ``val_ndcg@100``. Epoch values are means over the epoch's gradient steps, weighted
        by users.
    best_epoch_ : int
        Epoch whose weights were kept.
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
    MultVAERecommender : The same model without anchors.
    skvaecf.diagnostics : Latent-geometry diagnostics that show what the anchors change.

    Notes
    -----
    For a user ``x`` with items ``S_x = {i : x_i > 0}`` (the full row) and masked input
    ``x_h``, the anchor loss is the mean expected squared distance from the posterior to the
    user's anchors, which for a diagonal Gaussian has the closed form

    ``L_A(x) = mean_{i in S_x} E_{z ~ q(z|x_h)} ||z - e_i||^2
    = ||mu(x_h) - ebar_x||^2 + sum_j sigma_j^2(x_h) + mean_{i in S_x} ||e_i - ebar_x||^2``,

    with ``ebar_x`` the plain mean of the user's anchors. The first term pulls the masked
    user towards the centroid of its items, the second shrinks the posterior variance, the
    third pulls co-consumed anchors together. The minimised objective is
    ``mean_batch[-ELBO_beta(x; x_h)] + lambda_t * mean_batch[L_A(x)]``; gradients reach the
    encoder and the anchors. The loss is computed from the sparse rows: its cost grows with
    the number of interactions times ``latent_dim``. Users without interactions contribute 0.
    The anchors add ``n_items * latent_dim`` parameters (and twice that in Adam's state).

    The anchor loss is not invariant to the scale of the latent space: shrinking the
    posterior means, standard deviations and anchors together lowers it, and the decoder
    can make up for the smaller codes. With ``anchor_weight=1`` on MovieLens-1M the users'
    mean ``||mu||`` is about 2.5 times smaller than Mult-VAE's, and the posterior variances
    about 10 times smaller. Diagnostics on an absolute scale (variance of ``mu`` across input
    masks, active units above a fixed threshold) then fall for that reason alone; see
    :func:`skvaecf.diagnostics.mask_stability` for scale-free ones.

    References
    ----------
    .. [1] L. Vuong et al., "On the Mechanisms of Collaborative Learning in VAE
       Recommenders", ICLR 2026, arXiv:2511.06781.
    .. [2] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational Autoencoders
       for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> from skvaecf import AnchoredVAERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> X = make_interactions(300, 50, random_state=0).X
    >>> model = AnchoredVAERecommender(hidden_dims=(32,), latent_dim=8, anchor_weight=1.0,
    ...                                epochs=3, anneal_steps=0, device="cpu",
    ...                                random_state=0).fit(X)
    >>> model.anchors_.shape
    (50, 8)
    >>> model.recommend(X[:2], k=3).shape
    (2, 3)
    """

    _parameter_constraints = {
        **MultVAERecommender._parameter_constraints,
        "anchor_weight": [Interval(Real, 0, None, closed="left")],
        "anchor_warmup_steps": [Interval(Integral, 0, None, closed="left")],
        "anchor_init_scale": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, hidden_dims=(600,), latent_dim=200, dropout=0.5, beta=0.2,
                 anneal_steps=200_000, anchor_weight=1.0, anchor_warmup_steps=0,
                 anchor_init_scale=0.01, learning_rate=1e-3, weight_decay=0.0, batch_size=500,
                 epochs=200, validation_fraction=0.1, patience=None, n_recommendations=10,
                 device="auto", random_state=None, verbose=False):
        super().__init__(hidden_dims=hidden_dims, latent_dim=latent_dim, dropout=dropout,
                         beta=beta, anneal_steps=anneal_steps, learning_rate=learning_rate,
                         weight_decay=weight_decay, batch_size=batch_size, epochs=epochs,
                         validation_fraction=validation_fraction, patience=patience,
                         n_recommendations=n_recommendations, device=device,
                         random_state=random_state, verbose=verbose)
        self.anchor_weight = anchor_weight
        self.anchor_warmup_steps = anchor_warmup_steps
        self.anchor_init_scale = anchor_init_scale

    def _make_objective(self, n_items: int, generator: torch.Generator) -> AnchoredObjective:
        return AnchoredObjective(self.beta, self.anneal_steps, self.dropout, n_items=n_items,
                                 latent_dim=self.latent_dim, anchor_weight=self.anchor_weight,
                                 anchor_warmup_steps=self.anchor_warmup_steps,
                                 anchor_init_scale=self.anchor_init_scale, generator=generator)

    def _store_objective(self, objective: AnchoredObjective) -> None:
        self.anchors_ = objective.anchors.detach().cpu().numpy().astype(np.float32, copy=True)


__all__ = ["AnchoredVAERecommender"]
