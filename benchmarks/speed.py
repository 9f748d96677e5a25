"""Speed of the package against minimal plain-PyTorch code doing the same work.

Three measurements, in one process and on the same data, so that their ratios hold even on a
machine shared with other jobs:

1. Time per training epoch of ``MultVAERecommender`` against a minimal Mult-VAE training
   loop written here with ``torch.nn.Linear`` layers on a dense copy of the matrix (same
   architecture, batch size, dropout, annealing and Adam): the practical floor for plain
   PyTorch. The package reads sparse rows in its first layer, so it should not be slower.
2. ``EASERecommender.fit`` against a bare ``torch.linalg.inv`` of the same Gram matrix plus
   ``l2`` (with the Gram matrix computed by scipy, as the package does).
3. Ranking throughput (users per second) of ``recommend(k=100)`` on many synthetic users,
   with the peak memory above the level before the call, against the size a dense
   users x items score matrix would take.

Timings are medians over repetitions, with the two sides interleaved. Data: MovieLens-1M
clicks (ratings >= 4, users >= 5) from ``../shared/data/ml-1m`` (or ``SKVAECF_SHARED_DATA``),
or synthetic data of the same size when absent.

Usage::

    python benchmarks/speed.py --device cpu --threads 2
    python benchmarks/speed.py --device cuda --ranking-users 100000 --ranking-items 20000
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from _protocol import SHARED_DATA, machine_description, ml1m_clicks
from skvaecf import EASERecommender, MultVAERecommender, PopularityRecommender
from skvaecf._device import resolve_device
from skvaecf.benchmark.measure import PeakMemory
from skvaecf.datasets import make_interactions

logger = logging.getLogger("speed")

RESULTS = Path(__file__).parent / "results"
BATCH_SIZE = 500
HIDDEN, LATENT = 600, 200
BETA, ANNEAL_STEPS = 0.2, 2000


# --------------------------------------------------------------------- plain Mult-VAE loop
class PlainMultVAE(nn.Module):
    """Mult-VAE with dense linear layers: I -> 600 -> 2 x 200, 200 -> 600 -> I, tanh."""

    def __init__(self, n_items: int):
        super().__init__()
        self.encoder_hidden = nn.Linear(n_items, HIDDEN)
        self.encoder_out = nn.Linear(HIDDEN, 2 * LATENT)
        self.decoder_hidden = nn.Linear(LATENT, HIDDEN)
        self.decoder_out = nn.Linear(HIDDEN, n_items)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = nn.functional.normalize(x, dim=1)
        h = nn.functional.dropout(h, 0.5, training=self.training)
        h = self.encoder_out(torch.tanh(self.encoder_hidden(h)))
        mean, log_var = h[:, :LATENT], h[:, LATENT:]
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        logits = self.decoder_out(torch.tanh(self.decoder_hidden(z)))
        return logits, mean, log_var


def plain_epoch_seconds(X: sp.csr_matrix, epochs: int, device: torch.device,
                        seed: int) -> list[float]:
    """Seconds of each epoch of the plain loop (the dense matrix is on the device first)."""
    torch.manual_seed(seed)  # a benchmark script, not library code: the global RNG is fine
    dense = torch.from_numpy(X.toarray()).to(device)
    model = PlainMultVAE(X.shape[1]).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    step, seconds = 0, []

    for _ in range(epochs):
        _synchronize(device)
        started = time.perf_counter()
        order = torch.from_numpy(rng.permutation(X.shape[0])).to(device)
        for start in range(0, X.shape[0], BATCH_SIZE):
            x = dense[order[start:start + BATCH_SIZE]]
            logits, mean, log_var = model(x)
            nll = -(torch.log_softmax(logits, dim=1) * x).sum(dim=1).mean()
            kl = 0.5 * (-log_var + log_var.exp() + mean.pow(2) - 1.0).sum(dim=1).mean()
            loss = nll + min(BETA, step / ANNEAL_STEPS) * kl
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        _synchronize(device)
        seconds.append(time.perf_counter() - started)
    return seconds


def package_epoch_seconds(X: sp.csr_matrix, epochs: int, device: torch.device,
                          seed: int) -> list[float]:
    """Seconds of each training epoch of MultVAERecommender (its ``history_``)."""
    model = MultVAERecommender(hidden_dims=(HIDDEN,), latent_dim=LATENT, batch_size=BATCH_SIZE,
                               beta=BETA, anneal_steps=ANNEAL_STEPS, epochs=epochs,
                               validation_fraction=None, device=str(device), random_state=seed)
    return list(model.fit(X).history_["seconds"])


def compare_epochs(X: sp.csr_matrix, epochs: int, repeats: int, device: torch.device) -> dict:
    """Median seconds per epoch of both loops, first epoch of each run left out (warm-up)."""
    package, plain = [], []
    for repeat in range(repeats):
        package += package_epoch_seconds(X, epochs, device, repeat)[1:]
        plain += plain_epoch_seconds(X, epochs, device, repeat)[1:]
        logger.info("epochs, repeat %d: package %.3f s, plain %.3f s (medians so far)",
                    repeat, np.median(package), np.median(plain))
    return {"package_seconds_per_epoch": float(np.median(package)),
            "plain_seconds_per_epoch": float(np.median(plain)),
            "ratio_package_to_plain": float(np.median(package) / np.median(plain)),
            "package_users_per_second": X.shape[0] / float(np.median(package)),
            "epochs_timed": len(package), "batch_size": BATCH_SIZE}


# --------------------------------------------------------------------- EASE
def bare_ease(X: sp.csr_matrix, l2: float, device: torch.device) -> tuple[torch.Tensor, float]:
    """EASE weights with nothing around them; returns them and the inversion's seconds."""
    gram = torch.from_numpy((X.T @ X).toarray()).to(device)
    gram.diagonal().add_(l2)
    _synchronize(device)
    started = time.perf_counter()
    inverse = torch.linalg.inv(gram)
    _synchronize(device)
    inversion = time.perf_counter() - started
    weights = inverse / (-torch.diagonal(inverse))
    weights.fill_diagonal_(0.0)
    _synchronize(device)
    return weights, inversion


def compare_ease(X: sp.csr_matrix, l2: float, repeats: int, device: torch.device) -> dict:
    package, bare, inversion = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        model = EASERecommender(l2=l2, device=str(device)).fit(X)
        _synchronize(device)
        package.append(time.perf_counter() - started)

        started = time.perf_counter()
        weights, inverse_seconds = bare_ease(X, l2, device)
        bare.append(time.perf_counter() - started)
        inversion.append(inverse_seconds)

    difference = float((model.item_weights_.float() - weights.float()).abs().max())
    return {"package_fit_seconds": float(np.median(package)),
            "bare_seconds": float(np.median(bare)),
            "bare_inversion_seconds": float(np.median(inversion)),
            "ratio_package_to_bare": float(np.median(package) / np.median(bare)),
            "max_weight_difference": difference, "l2": l2, "n_items": X.shape[1]}


# --------------------------------------------------------------------- ranking
def ranking_throughput(n_users: int, n_items: int, repeats: int, device: torch.device) -> dict:
    """users/s of recommend(k=100) on n_users synthetic users, and its peak memory."""
    started = time.perf_counter()
    X = make_interactions(n_users, n_items, density=0.005, random_state=0).X
    logger.info("generated %d x %d synthetic users in %.1f s (%d clicks)", n_users, n_items,
                time.perf_counter() - started, X.nnz)
    train = X[:min(n_users, 10_000)]
    models = {
        "multvae": MultVAERecommender(epochs=1, validation_fraction=None, anneal_steps=0,
                                      device=str(device), random_state=0),
        "ease": EASERecommender(l2=500.0, device=str(device)),
        "popularity": PopularityRecommender(),
    }
    results = {"n_users": n_users, "n_items": n_items, "k": 100,
               "dense_scores_mib": n_users * n_items * 4 / 2**20}
    for name, model in models.items():
        model.fit(train)
        seconds, host_peaks, gpu_peaks = [], [], []
        for _ in range(repeats):
            with PeakMemory(device) as peak:
                started = time.perf_counter()
                model.recommend(X, k=100)
                seconds.append(time.perf_counter() - started)
            host_peaks.append(peak.host_bytes / 2**20)
            if peak.gpu_bytes is not None:
                gpu_peaks.append(peak.gpu_bytes / 2**20)
        results[name] = {"users_per_second": n_users / float(np.median(seconds)),
                         "seconds": float(np.median(seconds)),
                         "peak_host_mib": float(max(host_peaks)),
                         "peak_gpu_mib": float(max(gpu_peaks)) if gpu_peaks else None}
        logger.info("ranking %s: %.0f users/s, peak %.0f MiB", name,
                    results[name]["users_per_second"], results[name]["peak_host_mib"])
        del model
    return results


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# --------------------------------------------------------------------- report
def _training_data() -> tuple[sp.csr_matrix, str]:
    if (SHARED_DATA / "ml-1m").is_dir():
        return ml1m_clicks(), "MovieLens-1M clicks (ratings >= 4, users >= 5)"
    logger.warning("ML-1M not found under %s: using synthetic data of its size", SHARED_DATA)
    return make_interactions(6040, 3500, random_state=0).X, "synthetic 6040 x 3500"


def _markdown(result: dict) -> str:
    epochs, ease, ranking = result["epochs"], result["ease"], result["ranking"]
    lines = [
        f"# Speed benchmark ({result['device']})", "",
        f"- Machine: {result['machine']}; torch threads {result['threads']}.",
        f"- Data: {result['data']} ({result['n_users']} users x {result['n_items']} items).",
        f"- Command: `{result['command']}`", "",
        "| measurement | skvaecf | plain PyTorch | ratio (skvaecf / plain) |",
        "|---|---|---|---|",
        f"| Mult-VAE seconds per epoch (batch {epochs['batch_size']}) | "
        f"{epochs['package_seconds_per_epoch']:.3f} | {epochs['plain_seconds_per_epoch']:.3f} "
        f"| {epochs['ratio_package_to_plain']:.2f} |",
        f"| EASE fit seconds (l2={ease['l2']:g}; bare: scipy Gram + torch.linalg.inv) | "
        f"{ease['package_fit_seconds']:.3f} | {ease['bare_seconds']:.3f} "
        f"| {ease['ratio_package_to_bare']:.2f} |", "",
        f"EASE weights differ from the bare solve by at most {ease['max_weight_difference']:.2e}"
        f"; the bare inversion alone takes {ease['bare_inversion_seconds']:.3f} s.", "",
        f"Ranking `recommend(k=100)` of {ranking['n_users']:,} synthetic users x "
        f"{ranking['n_items']:,} items (a dense score matrix would take "
        f"{ranking['dense_scores_mib']:,.0f} MiB):", "",
        "| model | users/s | peak host MiB above start | peak GPU MiB |", "|---|---|---|---|",
    ]
    for name in ("multvae", "ease", "popularity"):
        entry = ranking[name]
        gpu = "-" if entry["peak_gpu_mib"] is None else f"{entry['peak_gpu_mib']:,.0f}"
        lines.append(f"| {name} | {entry['users_per_second']:,.0f} | "
                     f"{entry['peak_host_mib']:,.0f} | {gpu} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ranking-users", type=int, default=100_000)
    parser.add_argument("--ranking-items", type=int, default=10_000)
    parser.add_argument("--output", type=Path, default=None,
                        help="JSON file (default: benchmarks/results/speed_<device>.json); a "
                        "Markdown file is written next to it")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    X, description = _training_data()
    result = {"device": str(device), "machine": machine_description(),
              "threads": torch.get_num_threads(), "data": description,
              "n_users": X.shape[0], "n_items": X.shape[1],
              "command": "python benchmarks/speed.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
                  if v is not None and k != "output")}
    result["epochs"] = compare_epochs(X, args.epochs, args.repeats, device)
    result["ease"] = compare_ease(X, 500.0, args.repeats, device)
    result["ranking"] = ranking_throughput(args.ranking_users, args.ranking_items,
                                           args.repeats, device)

    output = args.output or RESULTS / f"speed_{device.type}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    output.with_suffix(".md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
