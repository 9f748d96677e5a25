"""Named presets reproducing the dataset preprocessing of the Mult-VAE paper."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ._base import InteractionData
from .preprocessing import binarize, filter_min_counts

__all__ = ["PRESETS", "Preset", "apply_preset"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preset:
    """The parameters of one published preprocessing recipe.

    Parameters
    ----------
    threshold : float
        Ratings or counts strictly above it become positive interactions
        (see :func:`binarize`).
    min_user : int
        Users with fewer interactions are removed (see :func:`filter_min_counts`).
    min_item : int
        Items with fewer users are removed first, once.
    expected_users, expected_items : int
        The sizes the paper reports after preprocessing the full official dataset.

    Examples
    --------
    >>> from skvaecf.datasets import PRESETS
    >>> preset = PRESETS["ml-20m"]
    >>> preset.threshold, preset.min_user, preset.expected_users
    (3.5, 5, 136677)
    """

    threshold: float
    min_user: int
    min_item: int
    expected_users: int
    expected_items: int


#: The Mult-VAE paper's datasets (Liang et al., WWW 2018, section 4.1 and its code).
PRESETS = {
    "ml-20m": Preset(threshold=3.5, min_user=5, min_item=0,
                     expected_users=136_677, expected_items=20_108),
    "netflix": Preset(threshold=3.5, min_user=5, min_item=0,
                      expected_users=463_435, expected_items=17_769),
    "msd": Preset(threshold=0.0, min_user=20, min_item=200,
                  expected_users=571_355, expected_items=41_140),
}


def apply_preset(data: InteractionData, name: str) -> InteractionData:
    """Apply the preprocessing the Mult-VAE paper used for one of its datasets.

    Parameters
    ----------
    data : InteractionData
        The raw data, e.g. from :func:`load_movielens`, :func:`load_netflix` or
        :func:`load_msd`.
    name : {"ml-20m", "netflix", "msd"}
        The recipe:

        - ``"ml-20m"`` and ``"netflix"``: keep ratings of 4 or more (``> 3.5``), then
          users with at least 5 of them;
        - ``"msd"``: every play is positive; keep songs with at least 200 users, then
          users with at least 20 songs.

    Returns
    -------
    InteractionData
        Binary ``X`` (all stored values 1.0), users and items that occur only.

    Raises
    ------
    ValueError
        If ``name`` is not a preset (the message lists them), no value passes the preset's
        rating threshold (implicit data given to a ratings preset), or nothing is left.

    Notes
    -----
    On the full official files the result has the sizes of the paper [1]_ (also in
    ``PRESETS[name].expected_users`` / ``expected_items``):

    =======  ============  ==========
    preset   users         items
    =======  ============  ==========
    ml-20m   136,677       20,108
    netflix  463,435       17,769
    msd      571,355       41,140
    =======  ============  ==========

    As in the paper's code (``filter_triplets``), the item filter runs first and each
    filter runs once, so some users or items may end below the thresholds. Applied to
    MovieLens 1M, ``"ml-20m"`` gives 6034 users, 3533 items and 575,272 interactions.
    The train / validation / test split of users that follows in the paper is not part
    of the preset.

    References
    ----------
    .. [1] D. Liang, R. G. Krishnan, M. D. Hoffman and T. Jebara, "Variational
       Autoencoders for Collaborative Filtering", WWW 2018.

    Examples
    --------
    >>> from skvaecf.datasets import apply_preset, make_interactions
    >>> data = make_interactions(3000, 200, density=0.1, random_state=0)
    >>> songs = apply_preset(data, "msd")
    >>> songs.n_users, songs.n_items
    (688, 97)
    >>> apply_preset(data, "ml-21m")
    Traceback (most recent call last):
    ...
    ValueError: unknown preset 'ml-21m'; valid presets: 'ml-20m', 'netflix', 'msd'
    """
    if name not in PRESETS:
        valid = ", ".join(repr(known) for known in PRESETS)
        raise ValueError(f"unknown preset {name!r}; valid presets: {valid}")
    preset = PRESETS[name]

    positives = binarize(data, preset.threshold)
    if positives.n_interactions == 0:
        largest = float(data.X.data.max()) if data.X.nnz else 0.0
        raise ValueError(
            f"preset {name!r} keeps values above {preset.threshold} (ratings of 4 stars and "
            f"more), but the largest value in the data is {largest:g}, so nothing is kept. "
            "For implicit data (clicks, plays), use binarize(data, 0) and filter_min_counts "
            "with the preset's thresholds instead.")
    result = filter_min_counts(
        positives, min_user=preset.min_user, min_item=preset.min_item, order="items_first"
    )

    logger.info(
        "preset %r: %d users, %d items, %d interactions (the paper reports %d users and "
        "%d items for the full %s data)",
        name, result.n_users, result.n_items, result.n_interactions,
        preset.expected_users, preset.expected_items, name,
    )
    return result
