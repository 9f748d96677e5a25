"""Datasets: loaders for public recommendation logs, published preprocessing, synthetic data.

Every function returns an :class:`InteractionData`: a user x item CSR matrix ``X`` plus the
original ``user_ids`` and ``item_ids`` of its rows and columns.
"""

from ._base import InteractionData
from .dataframe import from_dataframe, load_csv
from .lastfm import load_lastfm
from .movielens import load_movielens
from .msd import load_msd
from .netflix import load_netflix
from .synthetic import make_interactions
from .user_item_lists import load_user_item_lists

__all__ = [
    "InteractionData",
    "from_dataframe",
    "load_csv",
    "load_lastfm",
    "load_movielens",
    "load_msd",
    "load_netflix",
    "load_user_item_lists",
    "make_interactions",
]
