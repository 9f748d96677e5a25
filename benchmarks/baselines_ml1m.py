"""EASE, implicit ALS and popularity on MovieLens-1M with the strong-generalisation protocol.

Each model is fitted on the training users. EASE's ``l2`` and a small ALS grid are chosen by
NDCG@100 on the validation users (their fold-in rows ranked against their held-out rows);
the chosen setting is then scored on the test users: Recall@20, Recall@50 and NDCG@100, with
the fit time of that setting. Popularity has nothing to tune.

Usage::

    OMP_WAIT_POLICY=PASSIVE nice -n 10 python benchmarks/baselines_ml1m.py --seed 0

The default ALS grid is the third of a sequence, each centred on the previous winner:
grid 1 (factors 64/128, alpha 5/20/40, regularization 1/10) chose 64 / 5 / 10; grid 2
(factors 32/64, alpha 1/2.5/5, regularization 10/50) chose 64 / 5 / 50. Their results are
in ``results/baselines_ml1m_grid1.json`` and ``results/baselines_ml1m_grid2.json``.
``OMP_WAIT_POLICY=PASSIVE`` avoids a large slow-down of MKL's threaded LAPACK calls when other
processes keep the cores busy.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import time
from pathlib import Path

import torch

from _protocol import machine_description, ml1m_split
from skvaecf import ALSRecommender, EASERecommender, PopularityRecommender
from skvaecf.metrics import evaluate_recommender

METRICS = ["recall@20", "recall@50", "ndcg@100"]
SELECTION_METRIC = "ndcg@100"
RESULTS = Path(__file__).parent / "results"


def timed_fit(model, split):
    """Fit on the training users; return the model and the seconds it took."""
    started = time.perf_counter()
    model.fit(split.train)
    return model, time.perf_counter() - started


def select_and_test(model_class, grid: dict, fixed: dict, split) -> dict:
    """Fit every setting of ``grid``, keep the best on validation, score it on test."""
    validation = []
    best = None
    for values in itertools.product(*grid.values()):
        params = {**dict(zip(grid, values)), **fixed}
        model, seconds = timed_fit(model_class(**params), split)
        score = evaluate_recommender(model, *split.validation_data, [SELECTION_METRIC])
        row = {"params": dict(zip(grid, values)), "fit_seconds": seconds,
               f"validation_{SELECTION_METRIC}": score[SELECTION_METRIC]}
        logging.info("%s %s", model_class.__name__, row)
        validation.append(row)
        if best is None or score[SELECTION_METRIC] > best[1]:
            best = (model, score[SELECTION_METRIC], row)

    model, validation_score, row = best
    test = evaluate_recommender(model, split.test_fold_in, split.test_held_out, METRICS)
    return {"params": model.get_params(), f"validation_{SELECTION_METRIC}": validation_score,
            **test, "fit_seconds": row["fit_seconds"], "validation": validation}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ease-l2", type=float, nargs="+",
                        default=[50.0, 100.0, 200.0, 300.0, 500.0, 1000.0, 2000.0])
    parser.add_argument("--als-factors", type=int, nargs="+", default=[64])
    parser.add_argument("--als-regularization", type=float, nargs="+",
                        default=[10.0, 50.0, 100.0, 200.0])
    parser.add_argument("--als-alpha", type=float, nargs="+", default=[2.5, 5.0, 10.0])
    parser.add_argument("--als-dtype", default="float32")
    parser.add_argument("--output", type=Path, default=RESULTS / "baselines_ml1m.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("skvaecf").setLevel(logging.WARNING)

    split = ml1m_split(args.seed)
    logging.info("ML-1M: %d training users x %d items", *split.train.shape)

    model, seconds = timed_fit(PopularityRecommender(), split)
    popularity = {"params": model.get_params(), "fit_seconds": seconds,
                  **evaluate_recommender(model, split.test_fold_in, split.test_held_out,
                                         METRICS)}
    ease = select_and_test(EASERecommender, {"l2": args.ease_l2},
                           {"device": args.device}, split)
    als = select_and_test(ALSRecommender,
                          {"factors": args.als_factors, "alpha": args.als_alpha,
                           "regularization": args.als_regularization},
                          {"dtype": args.als_dtype, "device": args.device,
                           "random_state": args.seed}, split)

    result = {"seed": args.seed, "machine": machine_description(),
              "torch_threads": torch.get_num_threads(),
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
              "n_train_users": split.train.shape[0], "n_items": split.train.shape[1],
              "popularity": popularity, "ease": ease, "als": als}
    for name in ("popularity", "ease", "als"):
        logging.info("%s: %s", name, {k: v for k, v in result[name].items()
                                      if k != "validation"})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
