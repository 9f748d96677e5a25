"""Tuning with Optuna's OptunaSearchCV: cross-validation over users, pruned epoch by epoch.

``OptunaSearchCV`` (from the ``optuna-integration`` package) is a sklearn search: here a
``KFold`` over the training users, scored with the package's NDCG@100 scorer on each fold's
held-out users (strong generalisation). With ``enable_pruning=True`` it trains each fold's
model with ``partial_fit``, one epoch per step up to ``max_iter``, and stops a trial whose
mean fold score falls behind. The refitted best model is evaluated on separate test users.
"""

import argparse
import warnings

import optuna
from optuna.distributions import FloatDistribution
from optuna_integration import OptunaSearchCV
from sklearn.model_selection import KFold

from skvaecf import MultVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.metrics import evaluate_recommender, make_recommender_scorer
from skvaecf.model_selection import strong_generalization_split

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-users", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--n-trials", type=int, default=12)
args = parser.parse_args()


def described(params: dict) -> str:
    return ", ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in params.items())


optuna.logging.set_verbosity(optuna.logging.WARNING)
# Optuna marks OptunaSearchCV as experimental; the warning says nothing about this search.
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

X = make_interactions(n_users=args.n_users, n_items=300, random_state=0).X
split = strong_generalization_split(X, n_validation_users=0.1, n_test_users=0.1,
                                    random_state=0)

# epochs is what the final refit (fit) trains; max_iter bounds the trials' partial_fit calls.
model = MultVAERecommender(hidden_dims=(100,), latent_dim=32, batch_size=200,
                           epochs=args.epochs, anneal_steps=5 * args.epochs,
                           validation_fraction=None, random_state=0)
search = OptunaSearchCV(
    model,
    {"beta": FloatDistribution(0.0, 0.5), "dropout": FloatDistribution(0.1, 0.7),
     "learning_rate": FloatDistribution(1e-4, 3e-2, log=True)},
    cv=KFold(n_splits=3, shuffle=True, random_state=0),
    scoring=make_recommender_scorer("ndcg@100"),
    enable_pruning=True, max_iter=args.epochs, n_trials=args.n_trials,
    study=optuna.create_study(direction="maximize",
                              sampler=optuna.samplers.TPESampler(seed=0),
                              pruner=optuna.pruners.MedianPruner(n_startup_trials=4,
                                                                 n_warmup_steps=3)))

search.fit(split.train)

trials = search.study_.trials
n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
print(f"{n_pruned} of {len(trials)} trials pruned")
print(f"best {described(search.best_params_)}: cross-validated NDCG@100 {search.best_score_:.4f}")

test = evaluate_recommender(search.best_estimator_, split.test_fold_in, split.test_held_out,
                            ["ndcg@100", "recall@20"])
print(f"refitted on all training users: test NDCG@100 {test['ndcg@100']:.4f}, "
      f"Recall@20 {test['recall@20']:.4f}")
