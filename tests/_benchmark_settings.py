"""Tiny benchmark settings shared by the benchmark and command-line tests."""

#: Synthetic data small enough for a whole run of every model in a few seconds.
TINY_DATA = {"synthetic_users": 400, "synthetic_items": 100}

#: Small networks and few ALS iterations, so that each model fits in a fraction of a second.
TINY_PARAMS = {
    "multvae": {"hidden_dims": (16,), "latent_dim": 4, "batch_size": 64},
    "anchoredvae": {"hidden_dims": (16,), "latent_dim": 4, "batch_size": 64},
    "als": {"factors": 4, "iterations": 2},
}

#: The same as command-line options.
TINY_OPTIONS = [
    "--synthetic-users", "400", "--synthetic-items", "100", "--epochs", "2",
    "--device", "cpu", "--threads", "1",
    "--param", "multvae.hidden_dims=(16,)", "--param", "multvae.latent_dim=4",
    "--param", "multvae.batch_size=64",
    "--param", "anchoredvae.hidden_dims=(16,)", "--param", "anchoredvae.latent_dim=4",
    "--param", "anchoredvae.batch_size=64",
    "--param", "als.factors=4", "--param", "als.iterations=2",
]
