"""Every recommender of the package, in a small and fast configuration, for shared tests.

Each model added to the package gets one entry here; the API suite (``test_api.py``) and
sklearn's estimator checks (``test_estimator_checks.py``) then run on it automatically.
"""

from skvaecf import (ALSRecommender, AnchoredVAERecommender, EASERecommender,
                     MultVAERecommender, PopularityRecommender)

#: Reasons for the sklearn estimator checks that cannot apply to a recommender.
NOT_APPLICABLE_CHECKS = {
    "check_fit_score_takes_y": (
        "score(X, y) reads y as the users x items held-out matrix; sklearn passes a 1-D "
        "target, which has no meaning for a recommender and is rejected with a clear error."),
    "check_pipeline_consistency": (
        "calls score(X, y) with a 1-D target; see check_fit_score_takes_y."),
    "check_estimator_sparse_array": (
        "sparse input is supported; the check then expects predict to return a 1-D target, "
        "while a recommender's predict returns the users x items indicator matrix."),
    "check_estimator_sparse_matrix": (
        "same as check_estimator_sparse_array, for scipy sparse matrices."),
}


def fast_estimators():
    """Instances small enough to fit in well under a second on synthetic data."""
    return [
        MultVAERecommender(hidden_dims=(16,), latent_dim=8, epochs=3, anneal_steps=0,
                           batch_size=64, device="cpu", random_state=0),
        AnchoredVAERecommender(hidden_dims=(16,), latent_dim=8, epochs=3, anneal_steps=0,
                               anchor_weight=1.0, batch_size=64, device="cpu", random_state=0),
        PopularityRecommender(),
        EASERecommender(l2=10.0, device="cpu"),
        ALSRecommender(factors=4, iterations=3, device="cpu", random_state=0),
    ]
