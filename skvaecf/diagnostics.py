"""Diagnostics of the latent geometry of a fitted VAE recommender.

Vuong et al. (ICLR 2026) explain collaboration in VAE recommenders by the distances between
users' posteriors: a gradient step on one user helps the users whose posteriors lie close to
it. Input masking moves users around at random ("neighbourhood drift"), and item anchors
keep them in place. The functions here measure that geometry on any fitted recommender of
this package with a VAE encoder (``MultVAERecommender``, ``AnchoredVAERecommender``):

* :func:`posterior_moments`: posterior means and variances, with or without input masks;
* :func:`wasserstein_distances`: pairwise 2-Wasserstein distances between the posteriors;
* :func:`mask_stability`: how much the posteriors and latent neighbourhoods move across
  independent input masks;
* :func:`active_units`: how many latent dimensions carry information (posterior collapse).

Distances, variances and the activity threshold are in the units of the latent space, which
differ between models (the anchor loss, for one, contracts the latent space). Compare models
with the scale-free summaries too: the neighbour overlap and the relative mask variance of
:class:`MaskStability`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import combinations
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from skvaecf._device import inference_device
from skvaecf._validation import check_interactions
from skvaecf.models._network import SparseBatch

logger = logging.getLogger(__name__)

#: Users encoded per forward pass.
_ENCODE_BATCH = 4096


def _check_vae(model) -> None:
    check_is_fitted(model)
    if not hasattr(model, "network_") or not hasattr(model.network_, "encode"):
        raise TypeError(f"{type(model).__name__} has no VAE encoder (a fitted network_ with "
                        "an encode method); the latent diagnostics need a VAE recommender.")


def posterior_moments(model, X, *, dropout: float = 0.0,
                      random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and variances of users, optionally under a random input mask.

    Parameters
    ----------
    model : fitted VAE recommender
        For example a fitted :class:`~skvaecf.MultVAERecommender`.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the users to encode.
    dropout : float, default=0.0
        Probability of masking each interaction before encoding, as in training (the kept
        entries are rescaled by ``1 / (1 - dropout)``). 0 gives the prediction-time
        posterior, as ``model.encode(X)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the mask.

    Returns
    -------
    mean, variance : ndarray of shape (n_users, latent_dim) and dtype float32
        Parameters of each user's diagonal Gaussian posterior ``q(z | x)``.

    Examples
    --------
    >>> from skvaecf import MultVAERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.diagnostics import posterior_moments
    >>> X = make_interactions(200, 40, random_state=0).X
    >>> model = MultVAERecommender(hidden_dims=(16,), latent_dim=4, epochs=2, anneal_steps=0,
    ...                            device="cpu", random_state=0).fit(X)
    >>> mean, variance = posterior_moments(model, X[:5], dropout=0.5, random_state=0)
    >>> mean.shape, bool((variance > 0).all())
    ((5, 4), True)
    """
    _check_vae(model)
    X = check_interactions(X, estimator=model, reset=False)
    if not (isinstance(dropout, Real) and 0.0 <= dropout < 1.0):
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")

    device = inference_device(model.device_)
    network = model.network_.to(device).eval()
    generator = torch.Generator(device=device)
    generator.manual_seed(int(check_random_state(random_state).randint(2**31 - 1)))
    means, variances = [], []

    with torch.no_grad():
        for start in range(0, X.shape[0], _ENCODE_BATCH):
            batch = SparseBatch.from_csr(X[start:start + _ENCODE_BATCH], device)
            mean, log_var = network.encode(batch, float(dropout), generator)
            means.append(mean.cpu().numpy())
            variances.append(log_var.exp().cpu().numpy())
    return np.concatenate(means), np.concatenate(variances)


def wasserstein_distances(mean_a, variance_a, mean_b=None, variance_b=None, *,
                          squared: bool = False) -> np.ndarray:
    """Pairwise 2-Wasserstein distances between diagonal Gaussian distributions.

    For ``N(mu_u, diag sigma_u^2)`` and ``N(mu_v, diag sigma_v^2)``,
    ``W2^2 = ||mu_u - mu_v||^2 + ||sigma_u - sigma_v||^2``, the squared Euclidean distance
    between the stacked vectors ``[mu, sigma]``; it is computed that way, with
    :func:`sklearn.metrics.pairwise.euclidean_distances`.

    Parameters
    ----------
    mean_a, variance_a : array-like of shape (n_a, latent_dim)
        Means and variances of the first set of distributions.
    mean_b, variance_b : array-like of shape (n_b, latent_dim), default=None
        The second set; ``None`` compares the first set with itself.
    squared : bool, default=False
        Return ``W2^2`` instead of ``W2``.

    Returns
    -------
    distances : ndarray of shape (n_a, n_b)

    Examples
    --------
    >>> import numpy as np
    >>> from skvaecf.diagnostics import wasserstein_distances
    >>> mean = np.array([[0.0, 0.0], [3.0, 0.0]])
    >>> variance = np.array([[1.0, 1.0], [1.0, 4.0]])
    >>> wasserstein_distances(mean, variance, squared=True)
    array([[ 0., 10.],
           [10.,  0.]])
    """
    first = _stacked_moments(mean_a, variance_a, "a")
    second = None if mean_b is None else _stacked_moments(mean_b, variance_b, "b")
    if second is not None and second.shape[1] != first.shape[1]:
        raise ValueError(f"the two sets have different latent sizes: "
                         f"{first.shape[1] // 2} and {second.shape[1] // 2}.")
    return euclidean_distances(first, second, squared=squared)


def _stacked_moments(mean, variance, name: str) -> np.ndarray:
    if variance is None:
        raise ValueError(f"mean_{name} is given without variance_{name}.")
    mean = np.asarray(mean, dtype=np.float64)
    variance = np.asarray(variance, dtype=np.float64)
    if mean.ndim != 2 or mean.shape != variance.shape:
        raise ValueError(f"mean_{name} and variance_{name} must be 2-D arrays of the same "
                         f"shape, got {mean.shape} and {variance.shape}.")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(variance))):
        raise ValueError(f"mean_{name} and variance_{name} must be finite.")
    if np.any(variance < 0):
        raise ValueError(f"variance_{name} has negative entries.")
    return np.hstack([mean, np.sqrt(variance)])


@dataclass
class MaskStability:
    """How much users move in the latent space across independent input masks.

    Attributes
    ----------
    neighbour_overlap : ndarray of shape (n_users,)
        For each user, the fraction of its ``k`` nearest latent neighbours shared by two
        masks, averaged over all pairs of masks (1: the same neighbours whatever the mask).
    mean_variance : ndarray of shape (n_users,)
        For each user, the variance of the posterior mean across masks, summed over the
        latent dimensions.
    total_variance : float
        Variance of all the masked posterior means around their grand mean, summed over the
        latent dimensions: the scale against which ``mean_variance`` is judged.
    k : int
        Number of neighbours.
    n_masks : int
        Number of masks.

    Examples
    --------
    :func:`mask_stability` returns it; the summaries are computed from the per-user arrays:

    >>> import numpy as np
    >>> from skvaecf.diagnostics import MaskStability
    >>> result = MaskStability(neighbour_overlap=np.array([1.0, 0.5]),
    ...                        mean_variance=np.array([0.0, 0.2]), total_variance=1.0,
    ...                        k=2, n_masks=3)
    >>> result.drift, result.mask_variance, result.relative_mask_variance
    (0.25, 0.1, 0.1)
    """

    neighbour_overlap: np.ndarray
    mean_variance: np.ndarray
    total_variance: float
    k: int
    n_masks: int

    @property
    def mean_overlap(self) -> float:
        """Mean over users of :attr:`neighbour_overlap`."""
        return float(np.mean(self.neighbour_overlap))

    @property
    def drift(self) -> float:
        """Neighbourhood drift: ``1 - mean_overlap``."""
        return 1.0 - self.mean_overlap

    @property
    def mask_variance(self) -> float:
        """Mean over users of :attr:`mean_variance` (in latent units squared)."""
        return float(np.mean(self.mean_variance))

    @property
    def relative_mask_variance(self) -> float:
        """``mask_variance / total_variance``: the share of the spread of the masked means
        that is due to the mask rather than to the user, in [0, 1]; unlike
        :attr:`mask_variance`, it does not change when the latent space is rescaled."""
        if self.total_variance == 0.0:
            return 0.0
        return self.mask_variance / self.total_variance


@validate_params(
    {
        "n_masks": [Interval(Integral, 2, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "k": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def mask_stability(model, X, *, n_masks: int = 5, dropout: float | None = None, k: int = 20,
                   random_state=None) -> MaskStability:
    """Neighbourhood drift and posterior-mean variance across independent input masks.

    Each user of ``X`` is encoded ``n_masks`` times, each time under a fresh dropout mask on
    its input, as in training. For every mask, the ``k`` nearest neighbours of each user
    among the users of ``X`` are found with the 2-Wasserstein distance between posteriors
    (:func:`wasserstein_distances`). Stable neighbourhoods mean that the same users share
    gradient updates whatever the mask.

    Parameters
    ----------
    model : fitted VAE recommender
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the users to study (for example held-out users' fold-in rows).
    n_masks : int, default=5
        Number of independent masks, at least 2.
    dropout : float or None, default=None
        Masking probability; ``None`` uses the model's own ``dropout``.
    k : int, default=20
        Number of latent neighbours; must be below the number of users.
    random_state : int, RandomState instance or None, default=None
        Seed of the masks.

    Returns
    -------
    MaskStability
        Per-user neighbour overlap and variance of the posterior mean, with summaries
        (``mean_overlap``, ``drift``, ``mask_variance``, ``relative_mask_variance``).

    Notes
    -----
    Neighbour search uses :class:`sklearn.neighbors.NearestNeighbors` on the vectors
    ``[mu, sigma]``, whose Euclidean distance is W2; time grows with ``n_masks`` times the
    cost of a k-nearest-neighbour search over the users.

    Examples
    --------
    >>> from skvaecf import MultVAERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.diagnostics import mask_stability
    >>> X = make_interactions(200, 40, random_state=0).X
    >>> model = MultVAERecommender(hidden_dims=(16,), latent_dim=4, epochs=2, anneal_steps=0,
    ...                            device="cpu", random_state=0).fit(X)
    >>> result = mask_stability(model, X, n_masks=3, k=10, random_state=0)
    >>> result.neighbour_overlap.shape, 0.0 <= result.drift <= 1.0
    ((200,), True)
    """
    _check_vae(model)
    X = check_interactions(X, estimator=model, reset=False)
    if k >= X.shape[0]:
        raise ValueError(f"k={k} neighbours need more than k users; X has {X.shape[0]}.")
    dropout = model.dropout if dropout is None else dropout
    rng = check_random_state(random_state)

    means, neighbours = [], []
    for _ in range(n_masks):
        mean, variance = posterior_moments(model, X, dropout=dropout,
                                           random_state=rng.randint(2**31 - 1))
        stacked = np.hstack([mean, np.sqrt(variance)]).astype(np.float64)
        search = NearestNeighbors(n_neighbors=k).fit(stacked)
        neighbours.append(_indicator(search.kneighbors(return_distance=False), X.shape[0]))
        means.append(mean.astype(np.float64))

    overlaps = [np.asarray(a.multiply(b).sum(axis=1)).ravel() / k
                for a, b in combinations(neighbours, 2)]
    means = np.stack(means)  # (n_masks, n_users, latent_dim)
    return MaskStability(neighbour_overlap=np.mean(overlaps, axis=0),
                         mean_variance=means.var(axis=0).sum(axis=1),
                         total_variance=float(means.reshape(-1, means.shape[2])
                                              .var(axis=0).sum()),
                         k=int(k), n_masks=int(n_masks))


def _indicator(neighbour_index: np.ndarray, n_users: int) -> sp.csr_matrix:
    """Users x users 0/1 matrix marking each user's neighbours."""
    n_rows, k = neighbour_index.shape
    indptr = np.arange(0, n_rows * k + 1, k)
    data = np.ones(n_rows * k, dtype=np.float64)
    return sp.csr_matrix((data, neighbour_index.ravel(), indptr), shape=(n_rows, n_users))


@validate_params({"threshold": [Interval(Real, 0, None, closed="left")]},
                 prefer_skip_nested_validation=True)
def active_units(model, X, *, threshold: float = 0.01) -> int:
    """Number of active latent units: dimensions whose posterior mean varies across users.

    Unit ``j`` is active when ``Cov_x(E_{q(z|x)}[z_j]) > threshold``, the variance over the
    users of ``X`` of the (unmasked) posterior mean (Burda et al., 2016). Few active units
    signal posterior collapse: the other dimensions carry no information about the user.

    Parameters
    ----------
    model : fitted VAE recommender
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Interactions of the users; at least 2.
    threshold : float, default=0.01
        Variance above which a unit counts as active. It is absolute: a model whose whole
        latent space is smaller has fewer active units at the same threshold.

    Returns
    -------
    int
        Number of active units, between 0 and ``latent_dim``.

    References
    ----------
    .. [1] Y. Burda, R. Grosse and R. Salakhutdinov, "Importance Weighted Autoencoders",
       ICLR 2016.

    Examples
    --------
    >>> from skvaecf import MultVAERecommender
    >>> from skvaecf.datasets import make_interactions
    >>> from skvaecf.diagnostics import active_units
    >>> X = make_interactions(200, 40, random_state=0).X
    >>> model = MultVAERecommender(hidden_dims=(16,), latent_dim=4, epochs=2, anneal_steps=0,
    ...                            device="cpu", random_state=0).fit(X)
    >>> 0 <= active_units(model, X) <= 4
    True
    """
    _check_vae(model)
    mean, _ = posterior_moments(model, X)
    if mean.shape[0] < 2:
        raise ValueError("active_units needs at least 2 users to measure a variance.")
    return int(np.sum(mean.astype(np.float64).var(axis=0) > threshold))


__all__ = ["MaskStability", "active_units", "mask_stability", "posterior_moments",
           "wasserstein_distances"]
