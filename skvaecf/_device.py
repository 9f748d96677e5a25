"""Choice of the torch device and of the random streams used in training.

Device policy: ``device="auto"`` uses the first CUDA device when one is present and the CPU
otherwise. Random policy: an estimator never touches the global random generators of numpy
or torch; it derives its own seeded ``numpy.random.Generator`` and ``torch.Generator`` from
``random_state`` (see :func:`make_generators`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils import check_random_state


def resolve_device(device) -> torch.device:
    """Turn a device specification into a :class:`torch.device`.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device
        ``"auto"`` picks CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the string is not a device name, names a device type other than the CPU and
        CUDA (the only ones the models are written and tested for), or CUDA is requested
        but not available.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")

    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device name.") from exc

    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device!r} is not supported: skvaecf runs on 'cpu' or "
                         "'cuda' devices; use device='auto' to pick one.")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available on "
                         "this machine; use device='auto' or 'cpu'.")
    return resolved


def inference_device(fitted_device: str) -> torch.device:
    """Device for prediction: the training device if still available, else the CPU.

    This lets a model trained on a GPU be unpickled and used on a CPU-only machine.
    """
    device = torch.device(fitted_device)
    if device.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu")
    return device


@dataclass
class RandomStreams:
    """Independent random streams of one training run.

    Attributes
    ----------
    numpy : numpy.random.Generator
        Shuffling and splitting of users on the host.
    initialisation : torch.Generator
        Initial weights of the network (CPU).
    training : torch.Generator
        Dropout masks and reparameterisation noise, on the training device.
    auxiliary : torch.Generator
        Initial values of extra parameters (such as item anchors), on the CPU. Kept apart so
        that adding such parameters leaves the other streams unchanged.
    """

    numpy: np.random.Generator
    initialisation: torch.Generator
    training: torch.Generator
    auxiliary: torch.Generator


def make_generators(random_state, device: torch.device) -> RandomStreams:
    """Derive independent random streams from ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Seed, as in scikit-learn. ``None`` gives fresh, unseeded streams.
    device : torch.device
        Device on which the training stream draws.

    Returns
    -------
    RandomStreams
    """
    seeds = [int(s) for s in check_random_state(random_state).randint(0, 2**31 - 1, size=4)]

    def torch_generator(seed: int, on: torch.device) -> torch.Generator:
        generator = torch.Generator(device=on)
        generator.manual_seed(seed)
        return generator

    cpu = torch.device("cpu")
    return RandomStreams(numpy=np.random.default_rng(seeds[0]),
                         initialisation=torch_generator(seeds[1], cpu),
                         training=torch_generator(seeds[2], device),
                         auxiliary=torch_generator(seeds[3], cpu))
