"""Training curve and epoch selection.

``fit`` records, for every epoch, the mean loss terms and the NDCG@100 of the validation
users in ``history_``, and keeps the weights of the best epoch (``best_epoch_``). Plotting the
history shows whether the model needs more epochs, and how the annealed KL weight evolves.
"""

import matplotlib.pyplot as plt

from skvaecf import MultVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.model_selection import strong_generalization_split

X = make_interactions(n_users=2000, n_items=300, random_state=0).X
split = strong_generalization_split(X, n_validation_users=200, n_test_users=200,
                                    random_state=0)

# 1600 training users in batches of 200: 8 gradient steps an epoch, 320 in 40 epochs.
# With anneal_steps=1000 the KL weight min(beta, step / 1000) reaches beta=0.2 at step 200.
model = MultVAERecommender(hidden_dims=(100,), latent_dim=50, batch_size=200, epochs=40,
                           anneal_steps=1000, random_state=0)
model.fit(split.train, validation_data=split.validation_data)

history = model.history_
print("recorded per epoch:", sorted(history))
print(f"best epoch {model.best_epoch_} of {len(history['epoch'])}, "
      f"validation NDCG@100 {model.best_score_:.4f}")

figure, (nll_axis, beta_axis, ndcg_axis) = plt.subplots(1, 3, figsize=(11, 3))
nll_axis.plot(history["epoch"], history["nll"])
nll_axis.set_ylabel("negative log-likelihood per user")
beta_axis.plot(history["epoch"], history["beta"])
beta_axis.set_ylabel("KL weight beta (epoch mean)")
ndcg_axis.plot(history["epoch"], history["val_ndcg@100"])
ndcg_axis.axvline(model.best_epoch_, color="grey", linestyle="--", label="kept epoch")
ndcg_axis.set_ylabel("validation NDCG@100")
ndcg_axis.legend()
for axis in (nll_axis, beta_axis, ndcg_axis):
    axis.set_xlabel("epoch")
figure.tight_layout()
