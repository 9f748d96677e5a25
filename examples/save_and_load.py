"""Saving and loading a fitted model.

A fitted recommender is an ordinary Python object: save it with :mod:`pickle` or
:mod:`joblib`. Torch weights are stored on the CPU, so a model trained on a GPU opens on a
machine without one. The training data are not stored in the model.
"""

import pickle
import tempfile
from pathlib import Path

import joblib
import numpy as np

from skvaecf import MultVAERecommender
from skvaecf.datasets import make_interactions

X = make_interactions(n_users=1000, n_items=200, random_state=0).X
model = MultVAERecommender(hidden_dims=(100,), latent_dim=20, epochs=10, anneal_steps=200,
                           random_state=0).fit(X)
before = model.recommend(X[:100], k=10)

folder = Path(tempfile.mkdtemp())
with open(folder / "model.pkl", "wb") as file:
    pickle.dump(model, file)
joblib.dump(model, folder / "model.joblib")

with open(folder / "model.pkl", "rb") as file:
    from_pickle = pickle.load(file)
from_joblib = joblib.load(folder / "model.joblib")

print("pickle file:", (folder / "model.pkl").stat().st_size // 1024, "KiB")
print("same recommendations after pickle:",
      np.array_equal(before, from_pickle.recommend(X[:100], k=10)))
print("same recommendations after joblib:",
      np.array_equal(before, from_joblib.recommend(X[:100], k=10)))
print("trained on:", from_pickle.device_, "| parameters:", from_pickle.get_params()["latent_dim"],
      "latent dimensions")
