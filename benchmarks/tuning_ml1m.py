"""A 20-trial Optuna search over Mult-VAE on MovieLens-1M, with and without pruning.

Both searches use :func:`skvaecf.tuning.tune_recommender` on the same split, search space and
sampler seed, with at most ``--epochs`` epochs a trial; one stops trials with Optuna's
``MedianPruner``, the other (``NopPruner``) runs every trial to the end. Reported for each:
the wall and CPU time of the search, the epochs trained, the trials pruned, the best
validation NDCG@100 and the test figures of the refitted best model.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tuning_ml1m.py --trials 20 --epochs 20
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import optuna
import torch
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.base import clone

from _protocol import machine_description, ml1m_split
from skvaecf import MultVAERecommender
from skvaecf.metrics import evaluate_recommender
from skvaecf.tuning import tune_recommender

METRICS = ["recall@20", "recall@50", "ndcg@100"]

SPACE = {
    "beta": FloatDistribution(0.0, 0.6),
    "dropout": FloatDistribution(0.0, 0.8),
    "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    "latent_dim": IntDistribution(50, 300, step=50),
}


def warm_up(split, storage: str) -> None:
    """Pay the one-off costs (lazy imports, the storage's tables) before any timing."""
    MultVAERecommender(hidden_dims=(600,), device="cpu").partial_fit(split.train[:100])
    optuna.storages.RDBStorage(storage)


def search(split, label: str, pruner, *, trials: int, epochs: int, seed: int,
           storage: str) -> dict:
    # 4828 training users in batches of 500: 10 steps an epoch; the KL weight reaches a cap
    # of 0.2 at epoch 4 and 0.6 at epoch 12.
    model = MultVAERecommender(hidden_dims=(600,), epochs=epochs, anneal_steps=200,
                               device="cpu", random_state=seed)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    result = tune_recommender(model, split.train, split.validation_data, SPACE,
                              n_trials=trials, storage=storage, study_name=label,
                              pruner=pruner, refit=False, random_state=seed)
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu

    best = clone(model).set_params(**result.best_params)
    for _ in range(result.best_epoch):
        best.partial_fit(split.train)
    test = evaluate_recommender(best, split.test_fold_in, split.test_held_out, METRICS)

    trials_done = result.study.trials
    states = [t.state.name for t in trials_done]
    return {"pruner": label, "trials": len(trials_done),
            "pruned": states.count("PRUNED"), "failed": states.count("FAIL"),
            "epochs_trained": sum(len(t.intermediate_values) for t in trials_done),
            "search_wall_seconds": wall, "search_cpu_seconds": cpu,
            "best_validation_ndcg@100": result.best_score, "best_epoch": result.best_epoch,
            "best_params": result.best_params, "best_trial": result.study.best_trial.number,
            **{f"test_{name}": value for name, value in test.items()},
            "per_trial": [{"number": t.number, "state": t.state.name, "params": t.params,
                           "epochs": len(t.intermediate_values),
                           "best_validation_ndcg@100": max(t.intermediate_values.values(),
                                                           default=None)}
                          for t in trials_done]}


def markdown_table(report: dict) -> str:
    """The runs of a report as a markdown table, with the command and the machine."""
    lines = ["| search | trials pruned | epochs trained | wall time (s) | CPU time (s) | "
             "best validation NDCG@100 | test NDCG@100 of its refit |",
             "|---|---|---|---|---|---|---|"]
    for run in report["runs"]:
        lines.append(f"| {run['pruner']} | {run['pruned']} of {run['trials']} | "
                     f"{run['epochs_trained']} | {run['search_wall_seconds']:.0f} | "
                     f"{run['search_cpu_seconds']:.0f} | "
                     f"{run['best_validation_ndcg@100']:.4f} | {run['test_ndcg@100']:.4f} |")
    return "\n".join(lines + ["", f"Command: `{report['command']}`",
                               f"Machine: {report['machine']} "
                               f"(torch threads: {report['torch_threads']})", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--warmup-epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).parent / "results" / "tuning_ml1m.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna.logging.INFO)

    split = ml1m_split(args.seed)
    pruners = {
        f"MedianPruner(n_startup_trials=5, n_warmup_steps={args.warmup_epochs})":
            optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=args.warmup_epochs),
        "no pruning (NopPruner)": optuna.pruners.NopPruner(),
    }
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        storage = f"sqlite:///{Path(folder) / 'tuning_ml1m.db'}"
        warm_up(split, storage)
        for label, pruner in pruners.items():
            run = search(split, label, pruner, trials=args.trials, epochs=args.epochs,
                         seed=args.seed, storage=storage)
            logging.info("%s: %s", run["pruner"],
                         {k: v for k, v in run.items() if k != "per_trial"})
            runs.append(run)

    threads = os.environ.get("OMP_NUM_THREADS")
    report = {"command": " ".join([f"OMP_NUM_THREADS={threads}"] * (threads is not None)
                                  + ["python", *sys.argv]),
              "torch_threads": torch.get_num_threads(), "space": repr(SPACE),
              "machine": machine_description(), "runs": runs}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    args.output.with_suffix(".md").write_text(markdown_table(report))


if __name__ == "__main__":
    main()
