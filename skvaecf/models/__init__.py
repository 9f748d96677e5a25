"""The recommenders: VAE models and baselines."""

from skvaecf.models.anchored import AnchoredVAERecommender
from skvaecf.models.popularity import PopularityRecommender
from skvaecf.models.vae import MultVAERecommender

__all__ = ["AnchoredVAERecommender", "MultVAERecommender", "PopularityRecommender"]
