"""The models the benchmark knows, looked up by name and imported only when used.

Each model has a short command-line name (``multvae``, ``ease``...) and a
:class:`ModelSpec` saying where its class lives, which parameters the benchmark fixes and
which it chooses on the validation users. Classes are imported lazily, so that a model
missing from an installation (or not written yet) makes only that model unavailable, with a
message saying why. Recommenders exported by :mod:`skvaecf.models` that have no entry here
are found too, under their class name without ``Recommender`` and in lower case, with the
estimator's own defaults.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass, field

from skvaecf.base import BaseRecommender

logger = logging.getLogger(__name__)

__all__ = ["KNOWN_MODELS", "ModelSpec", "ModelUnavailableError", "available_models",
           "get_model_spec"]


class ModelUnavailableError(ImportError):
    """A model the benchmark knows cannot be imported from this installation.

    Raised by :meth:`ModelSpec.estimator_class`; the message names the model, the module
    and the reason. It is an :class:`ImportError`, so ``except ImportError`` catches it.

    Examples
    --------
    >>> from skvaecf.benchmark import ModelSpec, ModelUnavailableError
    >>> spec = ModelSpec("missing", "skvaecf.no_such_module:NoModel")
    >>> try:
    ...     spec.estimator_class()
    ... except ModelUnavailableError as error:
    ...     print(type(error).__name__, isinstance(error, ImportError))
    ModelUnavailableError True
    """


@dataclass(frozen=True)
class ModelSpec:
    """How the benchmark builds one model.

    Attributes
    ----------
    name : str
        Command-line name, lower case.
    class_path : str
        ``"module:ClassName"`` of the estimator.
    params : dict
        Parameters the benchmark sets (on top of the estimator's defaults).
    grid : dict
        Parameter name to candidate values; every combination is fitted on the training
        users and the one with the best validation NDCG@100 is evaluated on the test users.
    note : str
        How the fixed parameters were chosen, for the report. The report adds which grid
        parameters were chosen on validation and which values the user fixed, from the
        settings of the run.

    Examples
    --------
    >>> from skvaecf.benchmark import ModelSpec
    >>> spec = ModelSpec("ease", "skvaecf.models.ease:EASERecommender",
    ...                  grid={"l2": [100.0, 500.0]})
    >>> spec.estimator_class()(l2=spec.grid["l2"][0])
    EASERecommender(l2=100.0)
    """

    name: str
    class_path: str
    params: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    note: str = ""

    @property
    def class_name(self) -> str:
        """Name of the estimator class."""
        return self.class_path.partition(":")[2]

    def estimator_class(self) -> type:
        """Import and return the estimator class.

        Raises
        ------
        ModelUnavailableError
            If the module or the class cannot be imported; the message says which model,
            which module and why.
        """
        module_name, _, class_name = self.class_path.partition(":")
        try:
            module = importlib.import_module(module_name)
            return getattr(module, class_name)
        except (ImportError, AttributeError) as error:
            raise ModelUnavailableError(
                f"model {self.name!r} ({class_name}) is not available in this installation: "
                f"importing it from {module_name} failed with {type(error).__name__}: "
                f"{error}") from error


#: The models of the package with the settings the benchmark uses. Every model also gets
#: the run's epochs, device, seed and progress bar where it has such parameters, and VAE
#: models a KL annealing that reaches ``beta`` at 80 % of training (see
#: :mod:`skvaecf.benchmark.runner`).
KNOWN_MODELS = {
    spec.name: spec for spec in [
        ModelSpec(
            "multvae", "skvaecf.models.vae:MultVAERecommender",
            params={"hidden_dims": (600,), "latent_dim": 200, "dropout": 0.5, "beta": 0.2,
                    "batch_size": 500, "learning_rate": 1e-3},
            note="Liang et al. (2018) architecture and optimiser; epoch chosen on "
                 "validation NDCG@100"),
        ModelSpec(
            "anchoredvae", "skvaecf.models.anchored:AnchoredVAERecommender",
            params={"hidden_dims": (600,), "latent_dim": 200, "dropout": 0.5, "beta": 0.2,
                    "batch_size": 500, "learning_rate": 1e-3},
            note="Mult-VAE settings plus the estimator's default anchor_weight (chosen on "
                 "MovieLens-1M validation users); epoch chosen on validation NDCG@100"),
        ModelSpec(
            "ease", "skvaecf.models.ease:EASERecommender",
            grid={"l2": [50.0, 200.0, 500.0, 2000.0]}),
        ModelSpec(
            "als", "skvaecf.models.als:ALSRecommender",
            params={"alpha": 10.0},
            grid={"regularization": [10.0, 100.0, 1000.0]},
            note="confidence alpha=10"),
        ModelSpec(
            "popularity", "skvaecf.models.popularity:PopularityRecommender",
            note="no parameters"),
    ]
}


def _exported_recommenders() -> dict[str, ModelSpec]:
    """Specs for recommenders of :mod:`skvaecf.models` that have no entry above."""
    import skvaecf.models

    specs = {}
    for class_name in getattr(skvaecf.models, "__all__", []):
        cls = getattr(skvaecf.models, class_name, None)
        if not (inspect.isclass(cls) and issubclass(cls, BaseRecommender)):
            continue
        if any(spec.class_name == class_name for spec in KNOWN_MODELS.values()):
            continue
        name = class_name.removesuffix("Recommender").lower()
        specs[name] = ModelSpec(name, f"{cls.__module__}:{class_name}",
                                note="the estimator's default parameters")
    return specs


def available_models() -> dict[str, ModelSpec]:
    """The models that can run in this installation, by command-line name.

    Returns
    -------
    dict of str to ModelSpec
        The known models whose class imports, in the order of :data:`KNOWN_MODELS`, then
        any other recommender exported by :mod:`skvaecf.models`.

    Examples
    --------
    >>> from skvaecf.benchmark import available_models
    >>> "multvae" in available_models()
    True
    """
    models = {}
    for name, spec in KNOWN_MODELS.items():
        try:
            spec.estimator_class()
        except ModelUnavailableError as error:
            logger.debug("%s", error)
            continue
        models[name] = spec
    models.update(_exported_recommenders())
    return models


def get_model_spec(name: str) -> ModelSpec:
    """The spec of a model by its command-line name (case-insensitive).

    Parameters
    ----------
    name : str
        ``"multvae"``, ``"anchoredvae"``, ``"ease"``, ``"als"``, ``"popularity"`` or the
        lower-case name of another recommender of :mod:`skvaecf.models`.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ValueError
        If no model has this name; the message lists the valid names.
    ModelUnavailableError
        If the model is known but its class cannot be imported.

    Examples
    --------
    >>> from skvaecf.benchmark import get_model_spec
    >>> get_model_spec("EASE").class_name
    'EASERecommender'
    """
    key = name.strip().lower()
    if key in KNOWN_MODELS:
        spec = KNOWN_MODELS[key]
        spec.estimator_class()
        return spec

    extra = _exported_recommenders()
    if key in extra:
        return extra[key]
    valid = ", ".join(sorted(set(KNOWN_MODELS) | set(extra)))
    raise ValueError(f"unknown model {name!r}; valid models: {valid}")
