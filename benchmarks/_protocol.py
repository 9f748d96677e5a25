"""The MovieLens-1M strong-generalisation setting shared by the benchmark scripts.

Liang et al. (2018) preprocessing applied to ML-1M: ratings >= 4 become clicks, users with at
least 5 clicks are kept, and 10 % of the users are held out for validation and 10 % for test
(each held-out user's clicks split 80/20 into fold-in and held-out).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
import torch

from skvaecf.datasets import load_movielens
from skvaecf.model_selection import StrongGeneralizationSplit, strong_generalization_split

logger = logging.getLogger(__name__)

#: Where the real datasets are looked for; override with SKVAECF_SHARED_DATA.
SHARED_DATA = Path(os.environ.get("SKVAECF_SHARED_DATA",
                                  Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


def ml1m_clicks(path: Path | None = None) -> sp.csr_matrix:
    """ML-1M as binary clicks (ratings >= 4) of users with at least 5 clicks."""
    data = load_movielens(path or SHARED_DATA / "ml-1m")
    X = data.X.copy()
    X.data = (X.data >= 4).astype(np.float32)
    X.eliminate_zeros()
    X = X[np.diff(X.indptr) >= 5]
    return X[:, np.diff(X.tocsc().indptr) > 0].tocsr()


def ml1m_split(seed: int, path: Path | None = None) -> StrongGeneralizationSplit:
    """The strong-generalisation split of ML-1M clicks for one seed (10 % / 10 % users)."""
    return strong_generalization_split(ml1m_clicks(path), 0.1, 0.1, random_state=seed)


def machine_description() -> str:
    """One line naming the machine and library versions, for the results files."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"{device}; python {platform.python_version()}, torch {torch.__version__}, "
            f"scikit-learn {sklearn.__version__}, numpy {np.__version__}; "
            f"{time.strftime('%Y-%m-%d')}")
