"""The recommenders: VAE models and baselines."""

from skvaecf.models.als import ALSRecommender
from skvaecf.models.anchored import AnchoredVAERecommender
from skvaecf.models.ease import EASERecommender
from skvaecf.models.popularity import PopularityRecommender
from skvaecf.models.vae import MultVAERecommender

__all__ = ["ALSRecommender", "AnchoredVAERecommender", "EASERecommender", "MultVAERecommender",
           "PopularityRecommender"]
