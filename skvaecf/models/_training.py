"""The training loop shared by the VAE recommenders.

The loop is the same for every VAE model of the package; only the objective differs. An
objective is a ``torch.nn.Module`` (so that it may own parameters, such as item anchors) with a
``loss(network, batch, step, generator)`` method returning the loss to minimise and a dict of
its terms, detached, for the history.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from skvaecf._ranking import rank_top_k
from skvaecf.metrics import ranking_metrics
from skvaecf.models._network import SparseBatch, VAENetwork

logger = logging.getLogger(__name__)

VALIDATION_METRIC = "ndcg@100"


class MultVAEObjective(torch.nn.Module):
    """Negative ELBO of Mult-VAE with a linearly annealed KL weight.

    ``loss = -sum_i x_i log softmax(f(z))_i + beta_t * KL(q(z | x_masked) || N(0, I))``,
    averaged over the users of the batch, with ``beta_t = min(beta, t / anneal_steps)`` at
    gradient step ``t``. Subclasses add regularisers through :meth:`regularizer`.
    """

    def __init__(self, beta: float, anneal_steps: int, dropout: float):
        super().__init__()
        self.beta = beta
        self.anneal_steps = anneal_steps
        self.dropout = dropout

    def beta_at(self, step: int) -> float:
        """KL weight after ``step`` gradient steps."""
        if self.anneal_steps == 0:
            return self.beta
        return min(self.beta, step / self.anneal_steps)

    def loss(self, network: VAENetwork, batch: SparseBatch, step: int,
             generator: torch.Generator) -> tuple[torch.Tensor, dict]:
        mean, log_var = network.encode(batch, self.dropout, generator)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        z = mean + noise * torch.exp(0.5 * log_var)

        log_probs = torch.log_softmax(network.decode(z), dim=1)
        nll = -(log_probs[batch.rows, batch.items] * batch.values).sum() / batch.n_users
        kl = 0.5 * (-log_var + log_var.exp() + mean.pow(2) - 1.0).sum(dim=1).mean()
        beta = self.beta_at(step)

        extra, extra_terms = self.regularizer(batch, mean, log_var, step)
        total = nll + beta * kl if extra is None else nll + beta * kl + extra
        terms = {"nll": nll.detach(), "kl": kl.detach(), "beta": beta, **extra_terms}
        return total, terms

    def regularizer(self, batch: SparseBatch, mean: torch.Tensor, log_var: torch.Tensor,
                    step: int) -> tuple[torch.Tensor | None, dict]:
        """Additional loss term; none for Mult-VAE."""
        return None, {}


@dataclass
class TrainingResult:
    """What the loop hands back to the estimator."""

    history: dict = field(default_factory=dict)
    best_epoch: int = 0
    best_score: float = math.nan
    n_steps: int = 0


@dataclass
class TrainingConfig:
    """Hyper-parameters of the loop itself."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    patience: int | None
    verbose: bool
    description: str = "training"


def _validation_score(network: VAENetwork, validation, device: torch.device) -> float:
    fold_in, held_out = validation
    network.eval()

    def score_batch(rows: sp.csr_matrix) -> torch.Tensor:
        return network.item_scores(SparseBatch.from_csr(rows, device))

    top = rank_top_k(score_batch, fold_in, min(100, fold_in.shape[1]), exclude_seen=True)
    network.train()
    return ranking_metrics(top, held_out, [VALIDATION_METRIC])[VALIDATION_METRIC]


def _snapshot(*modules: torch.nn.Module) -> list[dict]:
    return [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in modules]


def train_vae(network: VAENetwork, objective: MultVAEObjective, X: sp.csr_matrix,
              config: TrainingConfig, *, validation, device: torch.device,
              numpy_rng: np.random.Generator, generator: torch.Generator) -> TrainingResult:
    """Train ``network`` (and the objective's own parameters) with Adam, epoch by epoch.

    Users are shuffled every epoch and cut into batches of ``config.batch_size``. When
    ``validation`` (a pair of fold-in and held-out CSR matrices) is given, NDCG@100 is
    measured after every epoch, the weights of the best epoch are restored at the end, and
    training stops early after ``config.patience`` epochs without improvement (if set).
    Without validation the last epoch is kept.
    """
    network.to(device).train()
    objective.to(device).train()
    parameters = list(network.parameters()) + list(objective.parameters())
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate,
                                 weight_decay=config.weight_decay)

    result = TrainingResult(history={"epoch": [], "loss": [], "seconds": []})
    best_state = None
    epochs = tqdm(range(1, config.epochs + 1), desc=config.description, unit="epoch",
                  disable=not config.verbose, leave=False)

    for epoch in epochs:
        started = time.perf_counter()
        sums = _train_one_epoch(network, objective, optimizer, X, config.batch_size, result,
                                device, numpy_rng, generator)
        _record(result.history, epoch=epoch, seconds=time.perf_counter() - started, **sums)

        if validation is not None:
            score = _validation_score(network, validation, device)
            _record(result.history, **{f"val_{VALIDATION_METRIC}": score})
            if not score <= result.best_score:  # also true for the first finite score
                result.best_score, result.best_epoch = score, epoch
                best_state = _snapshot(network, objective)
        else:
            result.best_epoch = epoch

        epochs.set_postfix({k: f"{v[-1]:.4g}" for k, v in result.history.items()
                            if k not in ("epoch", "seconds")})
        logger.debug("epoch %d: %s", epoch, {k: v[-1] for k, v in result.history.items()})
        if (validation is not None and config.patience is not None
                and epoch - result.best_epoch >= config.patience):
            logger.info("early stop after epoch %d: no improvement since epoch %d",
                        epoch, result.best_epoch)
            break

    if best_state is not None:
        network.load_state_dict(best_state[0])
        objective.load_state_dict(best_state[1])
    network.eval()
    return result


def _train_one_epoch(network, objective, optimizer, X, batch_size, result, device,
                     numpy_rng, generator) -> dict:
    """One pass over the shuffled users; returns the user-weighted mean of each loss term."""
    order = numpy_rng.permutation(X.shape[0])
    shuffled = X[order]
    totals: dict[str, float] = {}

    for start in range(0, X.shape[0], batch_size):
        rows = shuffled[start:start + batch_size]
        batch = SparseBatch.from_csr(rows, device)

        optimizer.zero_grad(set_to_none=True)
        loss, terms = objective.loss(network, batch, result.n_steps, generator)
        loss.backward()
        optimizer.step()
        result.n_steps += 1

        terms = {"loss": loss.detach(), **terms}
        for name, value in terms.items():
            # Kept on the device until the end of the epoch: no host sync per batch.
            totals[name] = totals.get(name, 0.0) + value * batch.n_users
    return {name: float(total) / X.shape[0] for name, total in totals.items()}


def _record(history: dict, **values) -> None:
    for name, value in values.items():
        history.setdefault(name, []).append(float(value))
