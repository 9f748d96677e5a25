"""The training loop shared by the VAE recommenders.

The loop is the same for every VAE model of the package; only the objective differs. An
objective is a ``torch.nn.Module`` (so that it may own parameters, such as item anchors) with a
``loss(network, batch, step, generator)`` method returning the loss to minimise and a dict of
its terms, detached, for the history.

Training runs epoch by epoch on a :class:`TrainingState` (network, objective, optimizer,
random streams, step count, history, best epoch): :func:`train_vae` runs all the epochs of
``fit`` on one state, while ``partial_fit`` keeps the state between calls and runs
:func:`run_epoch` once per call.
"""

from __future__ import annotations

import copy
import logging
import math
import time
import warnings
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
    verbose: bool | int
    description: str = "training"


@dataclass
class TrainingState:
    """Everything one more epoch needs, so that training can go on call after call.

    ``fit`` runs all its epochs on one state; ``partial_fit`` keeps the state between calls.
    ``best_weights`` holds a copy of the network's and the objective's weights at the best
    validation epoch, when the caller asks for it.
    """

    network: VAENetwork
    objective: MultVAEObjective
    optimizer: torch.optim.Optimizer
    device: torch.device
    numpy_rng: np.random.Generator
    generator: torch.Generator
    config: TrainingConfig
    history: dict = field(default_factory=lambda: {"epoch": [], "loss": [], "seconds": []})
    epoch: int = 0
    n_steps: int = 0
    best_epoch: int = 0
    best_score: float = math.nan
    best_weights: list[dict] | None = None


@dataclass
class TrainingCheckpoint:
    """A :class:`TrainingState` without the network, with every tensor on the CPU.

    This is what a pickled estimator keeps of its training state: the network is pickled
    once, as the estimator's ``network_``, and the optimizer as its ``state_dict``, whose
    parameters are numbered in the order of :func:`_trained_parameters`.
    """

    objective: MultVAEObjective
    optimizer_state: dict
    device: str
    numpy_rng: np.random.Generator
    generator_state: torch.Tensor
    config: TrainingConfig
    history: dict
    epoch: int
    n_steps: int
    best_epoch: int
    best_score: float
    best_weights: list[dict] | None


def _trained_parameters(network: VAENetwork, objective: MultVAEObjective) -> list:
    return list(network.parameters()) + list(objective.parameters())


def start_training(network: VAENetwork, objective: MultVAEObjective, config: TrainingConfig,
                   *, device: torch.device, numpy_rng: np.random.Generator,
                   generator: torch.Generator) -> TrainingState:
    """Move the network and the objective to ``device`` and create their Adam optimizer."""
    network.to(device)
    objective.to(device)
    optimizer = torch.optim.Adam(_trained_parameters(network, objective),
                                 lr=config.learning_rate, weight_decay=config.weight_decay)
    return TrainingState(network, objective, optimizer, device, numpy_rng, generator, config)


def run_epoch(state: TrainingState, X: sp.csr_matrix, *, validation,
              keep_best_weights: bool) -> None:
    """Train one more epoch on ``X`` and record it in ``state.history``.

    With ``validation`` (a pair of fold-in and held-out CSR matrices), NDCG@100 is measured
    after the epoch and the best epoch is tracked; ``keep_best_weights`` also copies its
    weights into ``state.best_weights``. Without validation the last epoch counts as best.

    Raises
    ------
    ValueError
        If the epoch's mean loss is not finite (training diverged).
    """
    state.network.train()
    state.objective.train()
    state.epoch += 1
    started = time.perf_counter()
    sums = _train_one_epoch(state, X)
    _record(state.history, epoch=state.epoch, seconds=time.perf_counter() - started, **sums)
    _check_finite_loss(state, sums["loss"])

    if validation is None:
        state.best_epoch = state.epoch
        return

    score = _validation_score(state.network, validation, state.device)
    _record(state.history, **{f"val_{VALIDATION_METRIC}": score})
    if not score <= state.best_score:  # also true for the first finite score
        state.best_score, state.best_epoch = score, state.epoch
        if keep_best_weights:
            state.best_weights = _snapshot(state.network, state.objective)


def restore_best_weights(state: TrainingState) -> None:
    """Load the weights of the best validation epoch, when they were kept."""
    if state.best_weights is not None:
        state.network.load_state_dict(state.best_weights[0])
        state.objective.load_state_dict(state.best_weights[1])


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
    state = start_training(network, objective, config, device=device, numpy_rng=numpy_rng,
                           generator=generator)
    epochs = tqdm(range(1, config.epochs + 1), desc=config.description, unit="epoch",
                  disable=not config.verbose, leave=False)

    for epoch in epochs:
        run_epoch(state, X, validation=validation, keep_best_weights=True)

        epochs.set_postfix({k: f"{v[-1]:.4g}" for k, v in state.history.items()
                            if k not in ("epoch", "seconds")})
        logger.debug("epoch %d: %s", epoch, {k: v[-1] for k, v in state.history.items()})
        if (validation is not None and config.patience is not None
                and epoch - state.best_epoch >= config.patience):
            logger.info("early stop after epoch %d: no improvement since epoch %d",
                        epoch, state.best_epoch)
            break

    restore_best_weights(state)
    network.eval()
    return TrainingResult(history=state.history, best_epoch=state.best_epoch,
                          best_score=state.best_score, n_steps=state.n_steps)


def make_checkpoint(state: TrainingState) -> TrainingCheckpoint:
    """A CPU copy of ``state`` without its network, for pickling."""
    def to_cpu(value):
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().clone()
        if isinstance(value, dict):
            return {k: to_cpu(v) for k, v in value.items()}
        if isinstance(value, list):
            return [to_cpu(v) for v in value]
        return copy.deepcopy(value)

    return TrainingCheckpoint(
        objective=copy.deepcopy(state.objective).cpu(),
        optimizer_state=to_cpu(state.optimizer.state_dict()),
        device=str(state.device), numpy_rng=copy.deepcopy(state.numpy_rng),
        generator_state=state.generator.get_state(), config=state.config,
        history=state.history,
        epoch=state.epoch, n_steps=state.n_steps, best_epoch=state.best_epoch,
        best_score=state.best_score, best_weights=to_cpu(state.best_weights))


def resume_training(checkpoint: TrainingCheckpoint, network: VAENetwork,
                    device: torch.device) -> TrainingState:
    """Rebuild the training state of ``checkpoint`` around ``network``, on ``device``.

    When ``device`` is of another kind than the checkpoint's (a GPU-trained model resumed on
    a CPU-only machine), the random stream of dropout and sampling cannot be carried over; a
    new one is seeded from the checkpoint's numpy generator, with a warning.
    """
    network.to(device)
    objective = checkpoint.objective.to(device)
    optimizer = torch.optim.Adam(_trained_parameters(network, objective))
    optimizer.load_state_dict(checkpoint.optimizer_state)

    numpy_rng = copy.deepcopy(checkpoint.numpy_rng)
    generator = torch.Generator(device=device)
    if torch.device(checkpoint.device).type == device.type:
        generator.set_state(checkpoint.generator_state)
    else:
        warnings.warn(f"training began on {checkpoint.device} and goes on on {device}: the "
                      "random stream of dropout and sampling starts anew, so the result "
                      "differs from an uninterrupted run.", UserWarning, stacklevel=3)
        generator.manual_seed(int(numpy_rng.integers(2**63 - 1)))

    return TrainingState(network, objective, optimizer, device, numpy_rng, generator,
                         checkpoint.config, history=checkpoint.history, epoch=checkpoint.epoch,
                         n_steps=checkpoint.n_steps, best_epoch=checkpoint.best_epoch,
                         best_score=checkpoint.best_score, best_weights=checkpoint.best_weights)


def _check_finite_loss(state: TrainingState, loss: float) -> None:
    """Stop with a clear error once training has diverged: every later epoch would be NaN."""
    if math.isfinite(loss):
        return
    raise ValueError(
        f"training diverged: the mean loss of epoch {state.epoch} is {loss} (after "
        f"{state.n_steps} gradient steps). Lower learning_rate (now "
        f"{state.config.learning_rate:g}) or check the scale of the input values."
    )


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


def _train_one_epoch(state: TrainingState, X: sp.csr_matrix) -> dict:
    """One pass over the shuffled users; returns the user-weighted mean of each loss term."""
    order = state.numpy_rng.permutation(X.shape[0])
    shuffled = X[order]
    totals: dict[str, float] = {}

    batch_size = state.config.batch_size
    for start in range(0, X.shape[0], batch_size):
        rows = shuffled[start:start + batch_size]
        batch = SparseBatch.from_csr(rows, state.device)

        state.optimizer.zero_grad(set_to_none=True)
        loss, terms = state.objective.loss(state.network, batch, state.n_steps,
                                           state.generator)
        loss.backward()
        state.optimizer.step()
        state.n_steps += 1

        terms = {"loss": loss.detach(), **terms}
        for name, value in terms.items():
            # Kept on the device until the end of the epoch: no host sync per batch.
            totals[name] = totals.get(name, 0.0) + value * batch.n_users
    return {name: float(total) / X.shape[0] for name, total in totals.items()}


def _record(history: dict, **values) -> None:
    for name, value in values.items():
        history.setdefault(name, []).append(float(value))
