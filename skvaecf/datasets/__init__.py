"""Datasets: loaders for public recommendation logs, published preprocessing, synthetic data.

Every function returns an :class:`InteractionData`: a user x item CSR matrix ``X`` plus the
original ``user_ids`` and ``item_ids`` of its rows and columns.

- Loaders of local files: :func:`load_movielens` (every official layout),
  :func:`load_netflix`, :func:`load_msd`, :func:`load_lastfm`,
  :func:`load_user_item_lists` (NGCF / LightGCN splits), :func:`load_csv` and
  :func:`from_dataframe` (any table).
- Downloads into a local cache: :func:`fetch_movielens`, :func:`fetch_msd`,
  :func:`get_data_home`.
- Preprocessing: :func:`binarize`, :func:`filter_min_counts` and the Mult-VAE paper's
  recipes :func:`apply_preset` / :data:`PRESETS`.
- Synthetic data: :func:`make_interactions`.
"""

from ._base import InteractionData
from ._cache import get_data_home
from .dataframe import from_dataframe, load_csv
from .fetch import MOVIELENS_VARIANTS, fetch_movielens, fetch_msd
from .lastfm import load_lastfm
from .movielens import load_movielens
from .msd import load_msd
from .netflix import load_netflix
from .preprocessing import binarize, filter_min_counts
from .presets import PRESETS, Preset, apply_preset
from .synthetic import make_interactions
from .user_item_lists import load_user_item_lists

__all__ = [
    "MOVIELENS_VARIANTS",
    "PRESETS",
    "InteractionData",
    "Preset",
    "apply_preset",
    "binarize",
    "fetch_movielens",
    "fetch_msd",
    "filter_min_counts",
    "from_dataframe",
    "get_data_home",
    "load_csv",
    "load_lastfm",
    "load_movielens",
    "load_msd",
    "load_netflix",
    "load_user_item_lists",
    "make_interactions",
]
