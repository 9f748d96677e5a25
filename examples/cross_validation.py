"""Cross-validation over users with scikit-learn.

``KFold`` splits the rows, that is the users. Each model is fitted on the users of the
training folds; the scorers then split each test-fold user's interactions 80/20 into fold-in
and held-out parts and rank for them: strong-generalisation evaluation, with sklearn's own
tools.
"""

from sklearn.model_selection import KFold, cross_validate

from skvaecf import EASERecommender, PopularityRecommender
from skvaecf.datasets import make_interactions
from skvaecf.metrics import make_recommender_scorer

X = make_interactions(n_users=2000, n_items=300, random_state=0).X

cv = KFold(n_splits=3, shuffle=True, random_state=0)
scoring = {"ndcg@100": make_recommender_scorer("ndcg@100"),
           "recall@20": make_recommender_scorer("recall@20")}

for model in [PopularityRecommender(), EASERecommender(l2=10.0), EASERecommender(l2=100.0)]:
    result = cross_validate(model, X, cv=cv, scoring=scoring)
    print(f"{model!r:<32} NDCG@100 {result['test_ndcg@100'].mean():.4f} "
          f"± {result['test_ndcg@100'].std():.4f}   "
          f"Recall@20 {result['test_recall@20'].mean():.4f}")
