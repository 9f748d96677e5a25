"""Tuning with scikit-learn's GridSearchCV: choose on validation users, report on test users.

The users are split into training, validation and test users. The search trains every
candidate on the training users and scores it on the validation users only (a
``PredefinedSplit`` with a single fold); the scorer splits each validation user's
interactions 80/20 into what the model sees and what it must find. The best candidate is then
refitted on the training and validation users, and its figures are reported on the test
users, which the search never saw.
"""

import argparse

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, PredefinedSplit

from skvaecf import AnchoredVAERecommender, EASERecommender
from skvaecf.datasets import make_interactions
from skvaecf.metrics import evaluate_recommender, make_recommender_scorer
from skvaecf.model_selection import strong_generalization_split

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-users", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()

X = make_interactions(n_users=args.n_users, n_items=300, random_state=0).X
split = strong_generalization_split(X, n_validation_users=0.1, n_test_users=0.1,
                                    random_state=0)

# The search sees the training users and the (whole) rows of the validation users; the
# fold index -1 keeps the training users in every training set, 0 makes the validation
# users the only evaluation fold.
validation_rows = split.validation_fold_in + split.validation_held_out
X_search = sp.vstack([split.train, validation_rows]).tocsr()
cv = PredefinedSplit(np.r_[np.full(split.train.shape[0], -1),
                           np.zeros(validation_rows.shape[0])])
scoring = {"ndcg@100": make_recommender_scorer("ndcg@100"),
           "recall@20": make_recommender_scorer("recall@20")}

# The anchored VAE's anchor_weight and KL weight beta, and EASE's l2 for comparison. With
# 1600 training users in batches of 200 there are 8 gradient steps an epoch.
anchored = AnchoredVAERecommender(hidden_dims=(100,), latent_dim=32, batch_size=200,
                                  epochs=args.epochs, anneal_steps=8 * args.epochs,
                                  validation_fraction=None, random_state=0)
searches = [
    (anchored, {"anchor_weight": [0.0, 0.1, 1.0], "beta": [0.1, 0.3]}),
    (EASERecommender(), {"l2": [10.0, 100.0, 1000.0]}),
]

for model, grid in searches:
    search = GridSearchCV(model, grid, cv=cv, scoring=scoring, refit="ndcg@100")
    search.fit(X_search)

    print(type(model).__name__)
    results = search.cv_results_
    for params, ndcg, recall in zip(results["params"], results["mean_test_ndcg@100"],
                                    results["mean_test_recall@20"]):
        print(f"  {params}: validation NDCG@100 {ndcg:.4f}, Recall@20 {recall:.4f}")

    test = evaluate_recommender(search.best_estimator_, split.test_fold_in,
                                split.test_held_out, ["ndcg@100", "recall@20"])
    print(f"  best {search.best_params_}: test NDCG@100 {test['ndcg@100']:.4f}, "
          f"Recall@20 {test['recall@20']:.4f} ({split.test_fold_in.shape[0]} test users)")
