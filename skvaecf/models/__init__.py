"""The recommenders: VAE models and baselines."""

from skvaecf.models.vae import MultVAERecommender

__all__ = ["MultVAERecommender"]
