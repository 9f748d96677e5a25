"""Tuning with Optuna: stop bad trials after a few epochs, keep the study in SQLite.

:func:`skvaecf.tuning.tune_recommender` trains each trial's model one epoch at a time and
reports its NDCG@100 on the validation users after every epoch; Optuna's median pruner stops
a trial whose score falls below the median of the earlier trials at the same epoch. The study
is stored in a SQLite file, so a search can be stopped and resumed: here it runs in two
sessions, the second adding trials to the first. The best model is then evaluated on the
test users, which the search never saw.
"""

import argparse
import tempfile
from pathlib import Path

import optuna

from skvaecf import AnchoredVAERecommender
from skvaecf.datasets import make_interactions
from skvaecf.metrics import evaluate_recommender
from skvaecf.model_selection import strong_generalization_split
from skvaecf.tuning import tune_recommender

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-users", type=int, default=2000)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--n-trials", type=int, default=20)
parser.add_argument("--storage", default=None,
                    help="Optuna storage URL; default: a SQLite file in a temporary folder")
args = parser.parse_args()


def described(params: dict) -> str:
    return ", ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in params.items())

optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = args.storage or f"sqlite:///{Path(tempfile.mkdtemp()) / 'tune_optuna.db'}"

X = make_interactions(n_users=args.n_users, n_items=300, random_state=0).X
split = strong_generalization_split(X, n_validation_users=0.1, n_test_users=0.1,
                                    random_state=0)

# Fixed settings; the trial budget is `epochs`. 8 gradient steps an epoch (1600 users / 200).
model = AnchoredVAERecommender(latent_dim=32, batch_size=200, epochs=args.epochs,
                               anneal_steps=8 * args.epochs, random_state=0)


def space(trial):
    """The searched parameters; a function, since hidden_dims is a tuple."""
    return {"anchor_weight": trial.suggest_float("anchor_weight", 0.01, 10.0, log=True),
            "beta": trial.suggest_float("beta", 0.0, 0.5),
            "dropout": trial.suggest_float("dropout", 0.1, 0.7),
            "hidden_dims": (trial.suggest_int("width", 50, 200, step=50),)}


pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3)
sessions = [args.n_trials // 2, args.n_trials - args.n_trials // 2]
for session, n_trials in enumerate(sessions):
    # A new sampler seed per session, so that the second does not replay the first's draws.
    result = tune_recommender(model, split.train, split.validation_data, space,
                              n_trials=n_trials, storage=storage, study_name="anchored-vae",
                              pruner=pruner, random_state=session)
    print(f"session {session + 1}: {n_trials} trials run, "
          f"{len(result.study.trials)} in the study")

trials = result.study.trials
epochs_run = sum(len(t.intermediate_values) for t in trials)
n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
print(f"{n_pruned} of {len(trials)} trials pruned; {epochs_run} epochs trained instead of "
      f"{len(trials) * args.epochs}")
for trial in trials:
    print(f"  trial {trial.number:2d} {trial.state.name:8s} "
          f"epochs {len(trial.intermediate_values):2d}  "
          f"validation NDCG@100 {max(trial.intermediate_values.values()):.4f}")

test = evaluate_recommender(result.best_estimator, split.test_fold_in, split.test_held_out,
                            ["ndcg@100", "recall@20"])
print(f"best {described(result.best_params)} at epoch {result.best_epoch}: validation NDCG@100 "
      f"{result.best_score:.4f}, test NDCG@100 {test['ndcg@100']:.4f}, "
      f"Recall@20 {test['recall@20']:.4f}")
