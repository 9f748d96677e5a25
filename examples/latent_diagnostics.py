"""Latent geometry: what the item anchors change.

Mult-VAE and the anchored VAE are fitted with the same seed. For the same users, the
diagnostics measure how far the posterior means move when the input is masked differently
(the mask variance, absolute and relative to the spread of all users), how much the latent
neighbours of a user change between masks (the drift), and how many latent dimensions are in
use (the active units).
"""

import matplotlib.pyplot as plt

from skvaecf import AnchoredVAERecommender, MultVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.diagnostics import active_units, mask_stability

X = make_interactions(n_users=1200, n_items=200, random_state=0).X
train, users = X[:1000], X[1000:]  # study 200 users the models were not trained on

settings = dict(hidden_dims=(100,), latent_dim=16, epochs=20, batch_size=100,
                anneal_steps=2000, validation_fraction=None, random_state=0)
models = {
    "Mult-VAE": MultVAERecommender(**settings).fit(train),
    "anchored VAE": AnchoredVAERecommender(anchor_weight=1.0, **settings).fit(train),
}

figure, axis = plt.subplots(figsize=(6, 3.5))
print(f"{'model':<14}{'drift':>7}{'mask variance':>15}{'relative':>10}{'active units':>14}")
for name, model in models.items():
    stability = mask_stability(model, users, n_masks=5, k=10, random_state=0)
    print(f"{name:<14}{stability.drift:>7.3f}{stability.mask_variance:>15.3f}"
          f"{stability.relative_mask_variance:>10.3f}{active_units(model, users):>14d}")
    axis.hist(stability.neighbour_overlap, bins=20, range=(0, 1), alpha=0.6, label=name)

axis.set_xlabel("share of a user's 10 latent neighbours kept across masks")
axis.set_ylabel("users")
axis.legend()
figure.tight_layout()
