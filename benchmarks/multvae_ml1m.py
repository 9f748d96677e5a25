"""Mult-VAE on MovieLens-1M with the strong-generalisation protocol.

Trains MultVAERecommender with the paper's hyper-parameters (600-200, dropout 0.5, Adam 1e-3,
batch 500, 200 epochs, best epoch on the validation users) and reports test Recall@20,
Recall@50, NDCG@100 and seconds per epoch.

Usage::

    python benchmarks/multvae_ml1m.py --anneal-steps 200000 --epochs 200 --seed 0
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from _protocol import machine_description, ml1m_split
from skvaecf import MultVAERecommender
from skvaecf.metrics import evaluate_recommender

METRICS = ["recall@20", "recall@50", "ndcg@100"]


def run(seed: int, epochs: int, anneal_steps: int, device: str) -> dict:
    split = ml1m_split(seed)
    model = MultVAERecommender(epochs=epochs, anneal_steps=anneal_steps, device=device,
                               random_state=seed)
    started = time.perf_counter()
    model.fit(split.train, validation_data=split.validation_data)
    fit_seconds = time.perf_counter() - started

    test = evaluate_recommender(model, split.test_fold_in, split.test_held_out, METRICS)
    return {"seed": seed, "epochs": epochs, "anneal_steps": anneal_steps,
            "device": model.device_, "best_epoch": model.best_epoch_,
            "validation_ndcg@100": model.best_score_, **test,
            "seconds_per_epoch_median": float(np.median(model.history_["seconds"])),
            "fit_seconds": fit_seconds, "final_beta": model.history_["beta"][-1],
            "n_train_users": split.train.shape[0], "n_items": split.train.shape[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--anneal-steps", type=int, default=200_000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).parent / "results" / "multvae_ml1m.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    result = run(args.seed, args.epochs, args.anneal_steps, args.device)
    result["machine"] = machine_description()
    logging.info("result: %s", result)

    previous = json.loads(args.output.read_text()) if args.output.exists() else []
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(previous + [result], indent=2))


if __name__ == "__main__":
    main()
