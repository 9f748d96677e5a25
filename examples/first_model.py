"""A first model: train Mult-VAE, recommend, evaluate.

Mult-VAE is trained on the training users of a synthetic log, keeping the epoch with the best
NDCG@100 on separate validation users. It then recommends items to test users it has never
seen, from their known (fold-in) interactions, and is scored on their held-out interactions.
"""

from skvaecf import MultVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.model_selection import strong_generalization_split

X = make_interactions(n_users=2000, n_items=300, random_state=0).X  # users x items, CSR
split = strong_generalization_split(X, n_validation_users=200, n_test_users=200,
                                    random_state=0)

model = MultVAERecommender(hidden_dims=(200,), latent_dim=50, epochs=30, anneal_steps=600,
                           random_state=0)
model.fit(split.train, validation_data=split.validation_data)

top10 = model.recommend(split.test_fold_in, k=10)  # item (column) indices, best first
print("top 10 items of the first test user:", top10[0])
print(f"best epoch: {model.best_epoch_}, validation NDCG@100: {model.best_score_:.4f}")
print(f"test NDCG@100: {model.score(split.test_fold_in, split.test_held_out):.4f}")
