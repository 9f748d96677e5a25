"""The Mult-VAE network and the sparse batches it reads.

The encoder's first layer reads the sparse rows directly (``torch.nn.functional.embedding_bag``
with per-entry weights): its cost grows with the number of interactions in the batch, not with
``batch x n_items``. The decoder's output layer is dense, since every item must be scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class SparseBatch:
    """A batch of users' rows on the device, in the layout ``embedding_bag`` reads.

    Attributes
    ----------
    items : LongTensor of shape (nnz,)
        Item index of each interaction, row after row.
    offsets : LongTensor of shape (n_users,)
        Start of each user's interactions in ``items``.
    rows : LongTensor of shape (nnz,)
        User (row in the batch) of each interaction.
    values : FloatTensor of shape (nnz,)
        Raw interaction values (the multinomial counts).
    normalized : FloatTensor of shape (nnz,)
        Values divided by the L2 norm of their row (the encoder's input).
    n_users : int
    """

    items: torch.Tensor
    offsets: torch.Tensor
    rows: torch.Tensor
    values: torch.Tensor
    normalized: torch.Tensor
    n_users: int

    @classmethod
    def from_csr(cls, X: sp.csr_matrix, device: torch.device) -> "SparseBatch":
        """Move a CSR matrix of users to ``device``."""
        counts = np.diff(X.indptr)
        rows = np.repeat(np.arange(X.shape[0]), counts)
        norms = np.sqrt(np.bincount(rows, weights=X.data.astype(np.float64) ** 2,
                                    minlength=X.shape[0]))
        normalized = X.data / norms[rows] if X.nnz else X.data

        def to_device(array, dtype):
            return torch.from_numpy(np.ascontiguousarray(array)).to(device=device, dtype=dtype)

        return cls(items=to_device(X.indices, torch.long),
                   offsets=to_device(X.indptr[:-1], torch.long),
                   rows=to_device(rows, torch.long),
                   values=to_device(X.data, torch.float32),
                   normalized=to_device(normalized, torch.float32),
                   n_users=X.shape[0])

    def is_empty_row(self) -> torch.Tensor:
        """Boolean mask of users without any interaction."""
        counts = torch.bincount(self.rows, minlength=self.n_users)
        return counts == 0


class VAENetwork(nn.Module):
    """Encoder ``n_items -> hidden_dims -> 2 * latent_dim`` and mirrored decoder.

    Hidden layers use tanh; the encoder's last layer outputs the posterior mean and
    log-variance, the decoder's last layer the item logits.

    Parameters
    ----------
    n_items : int
    hidden_dims : tuple of int
        Sizes of the encoder's hidden layers (the decoder mirrors them).
    latent_dim : int
    generator : torch.Generator
        Source of the initial weights: Xavier-uniform weights and biases drawn from a
        truncated normal with standard deviation 0.001, as in Liang et al. (2018).
    """

    def __init__(self, n_items: int, hidden_dims: tuple[int, ...], latent_dim: int,
                 generator: torch.Generator):
        super().__init__()
        self.latent_dim = latent_dim
        encoder_dims = [*hidden_dims, 2 * latent_dim]
        decoder_dims = [latent_dim, *reversed(hidden_dims), n_items]

        # Stored as (n_items, width) so that embedding_bag can read it row by item.
        self.input_weight = nn.Parameter(torch.empty(n_items, encoder_dims[0]))
        self.input_bias = nn.Parameter(torch.empty(encoder_dims[0]))
        # skip_init: nn.Linear would otherwise draw from torch's global generator.
        self.encoder = nn.ModuleList(nn.utils.skip_init(nn.Linear, a, b)
                                     for a, b in zip(encoder_dims[:-1], encoder_dims[1:]))
        self.decoder = nn.ModuleList(nn.utils.skip_init(nn.Linear, a, b)
                                     for a, b in zip(decoder_dims[:-1], decoder_dims[1:]))
        self._initialise(generator)

    def _initialise(self, generator: torch.Generator) -> None:
        with torch.no_grad():
            for name, parameter in self.named_parameters():
                if name.endswith("bias"):
                    nn.init.trunc_normal_(parameter, std=0.001, a=-0.002, b=0.002,
                                          generator=generator)
                else:
                    nn.init.xavier_uniform_(parameter, generator=generator)

    def encode(self, batch: SparseBatch, dropout: float = 0.0,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of each user of the batch.

        ``dropout`` masks each interaction of the normalised input with that probability and
        rescales the rest by ``1 / (1 - dropout)``; it is only used in training.
        """
        weights = batch.normalized
        if dropout > 0.0:
            keep = torch.rand(weights.shape, generator=generator, device=weights.device)
            weights = weights * (keep >= dropout) / (1.0 - dropout)

        hidden = F.embedding_bag(batch.items, self.input_weight, batch.offsets, mode="sum",
                                 per_sample_weights=weights) + self.input_bias
        for layer in self.encoder:
            hidden = layer(torch.tanh(hidden))

        mean, log_var = hidden[:, :self.latent_dim], hidden[:, self.latent_dim:]
        return mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Item logits for latent codes ``z``."""
        hidden = z
        for index, layer in enumerate(self.decoder):
            if index > 0:
                hidden = torch.tanh(hidden)
            hidden = layer(hidden)
        return hidden

    def item_scores(self, batch: SparseBatch) -> torch.Tensor:
        """Prediction-time scores: logits decoded from the posterior mean.

        Users without interactions are decoded from the prior mean ``z = 0``.
        """
        mean, _ = self.encode(batch)
        mean = mean.masked_fill(batch.is_empty_row()[:, None], 0.0)
        return self.decode(mean)
