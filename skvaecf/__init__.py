"""skvaecf: variational-autoencoder collaborative filtering as scikit-learn estimators."""

import logging

from skvaecf.base import BaseRecommender
from skvaecf.metrics import (evaluate_recommender, make_recommender_scorer, ndcg_at_k,
                             recall_at_k)
from skvaecf.model_selection import fold_in_split, strong_generalization_split
from skvaecf.models import AnchoredVAERecommender
from skvaecf.models import MultVAERecommender
from skvaecf.models import ALSRecommender, EASERecommender, PopularityRecommender

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ALSRecommender",
    "AnchoredVAERecommender",
    "BaseRecommender",
    "EASERecommender",
    "MultVAERecommender",
    "PopularityRecommender",
    "evaluate_recommender",
    "fold_in_split",
    "make_recommender_scorer",
    "ndcg_at_k",
    "recall_at_k",
    "strong_generalization_split",
]
