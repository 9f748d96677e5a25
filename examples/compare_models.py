"""Comparing recommenders on the same strong-generalisation split.

Every recommender is fitted on the same training users and evaluated with
:func:`skvaecf.metrics.evaluate_recommender` on the same test users, with the metrics of the
Mult-VAE paper. The popularity baseline is the floor a personalised model must beat.
Hyperparameters are fixed here to keep the example short; in a real comparison, choose them
on the validation users for every model (see the tuning guide).
"""

import time

from skvaecf import (ALSRecommender, AnchoredVAERecommender, EASERecommender,
                     MultVAERecommender, PopularityRecommender)
from skvaecf.datasets import make_interactions
from skvaecf.metrics import evaluate_recommender
from skvaecf.model_selection import strong_generalization_split

X = make_interactions(n_users=2000, n_items=300, random_state=0).X
split = strong_generalization_split(X, n_validation_users=200, n_test_users=200,
                                    random_state=0)

vae = dict(hidden_dims=(100,), latent_dim=50, epochs=20, batch_size=200, anneal_steps=1000,
           random_state=0)
models = {
    "popularity": PopularityRecommender(),
    "EASE": EASERecommender(l2=100.0),
    "ALS": ALSRecommender(factors=16, regularization=10.0, alpha=10.0, iterations=10,
                          dtype="float32", random_state=0),
    "Mult-VAE": MultVAERecommender(**vae),
    "anchored VAE": AnchoredVAERecommender(anchor_weight=0.1, **vae),
}
metrics = ["recall@20", "recall@50", "ndcg@100"]

print(f"{'model':<14}" + "".join(f"{name:>11}" for name in metrics) + f"{'fit (s)':>9}")
for name, model in models.items():
    started = time.perf_counter()
    model.fit(split.train, validation_data=split.validation_data)
    seconds = time.perf_counter() - started

    result = evaluate_recommender(model, split.test_fold_in, split.test_held_out, metrics)
    print(f"{name:<14}" + "".join(f"{result[m]:>11.4f}" for m in metrics)
          + f"{seconds:>9.2f}")
