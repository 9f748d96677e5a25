"""Shared fixtures: small synthetic matrices and the optional real datasets."""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

#: Where the real datasets live; override with the ``SKVAECF_SHARED_DATA`` variable.
_DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SHARED_DATA = Path(os.environ.get("SKVAECF_SHARED_DATA", _DEFAULT_SHARED_DATA))


def shared_dataset(name: str) -> Path:
    """Return the folder of a shared dataset, skipping the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real dataset {name!r} not found under {SHARED_DATA} "
                    "(set SKVAECF_SHARED_DATA)")
    return path


@pytest.fixture
def small_interactions() -> sp.csr_matrix:
    """A 120 users x 40 items binary matrix with block structure (two taste groups)."""
    rng = np.random.default_rng(0)
    n_users, n_items = 120, 40
    group = rng.integers(0, 2, size=n_users)
    item_group = np.arange(n_items) % 2
    prob = np.where(group[:, None] == item_group[None, :], 0.35, 0.04)
    dense = (rng.random((n_users, n_items)) < prob).astype(np.float32)
    dense[dense.sum(axis=1) == 0, 0] = 1.0
    return sp.csr_matrix(dense)
