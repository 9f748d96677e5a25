"""Recommendations in your own user and item ids.

Estimators work on matrix rows and columns. A loader keeps the ids of both:
``InteractionData.user_ids[r]`` is the user of row ``r`` and ``item_ids[c]`` the item of
column ``c``. Here a log with string ids is turned into a matrix, a model is fitted, and its
recommendations are translated back into item ids, for known users and for a new user.
"""

import numpy as np
import scipy.sparse as sp

from skvaecf import MultVAERecommender
from skvaecf.datasets import from_dataframe, make_interactions

# A click log with string ids, as it would come from a database.
clicks = make_interactions(n_users=1000, n_items=120, random_state=1).to_dataframe()
clicks["user"] = "user-" + clicks["user"].astype(str)
clicks["item"] = "sku-" + clicks["item"].astype(str).str.zfill(3)
print(clicks.head(3), end="\n\n")

data = from_dataframe(clicks, user_col="user", item_col="item")  # rows/columns sorted by id
print(data)

model = MultVAERecommender(hidden_dims=(100,), latent_dim=20, epochs=20, anneal_steps=200,
                           random_state=0).fit(data.X)

# Known users: pick their rows, recommend columns, translate the columns into item ids.
rows = data.user_index(["user-7", "user-42"])
top = model.recommend(data.X[rows], k=5)
for user, columns in zip(data.user_ids_of(rows), top):
    print(user, "->", data.item_ids_of(columns).tolist())

# A new user, never seen in fit: build their fold-in row from the items they clicked.
columns = data.item_index(["sku-003", "sku-017", "sku-050"])
new_user = sp.csr_matrix((np.ones(len(columns)), (np.zeros(len(columns)), columns)),
                         shape=(1, data.n_items))
print("new user ->", data.item_ids_of(model.recommend(new_user, k=5)[0]).tolist())
