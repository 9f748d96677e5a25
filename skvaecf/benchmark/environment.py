"""The machine and library versions a benchmark ran with, for its report."""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import scipy
import sklearn
import torch

__all__ = ["describe_environment"]


def describe_environment(device: torch.device) -> dict:
    """Machine, versions and date of the run.

    Parameters
    ----------
    device : torch.device
        The device the models train on; a CUDA device is named.

    Returns
    -------
    dict

    Examples
    --------
    >>> import torch
    >>> from skvaecf.benchmark.environment import describe_environment
    >>> sorted(describe_environment(torch.device("cpu")))[:3]
    ['cpu', 'cpu_cores', 'date']
    """
    from skvaecf import __version__

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": _cpu_name(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "skvaecf": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux, where platform has none)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
