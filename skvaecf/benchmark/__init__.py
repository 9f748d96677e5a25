"""The benchmark behind ``skvaecf benchmark``: train and compare the models on one dataset.

The run follows the strong-generalisation protocol of Liang et al. (2018): preprocessing
(:mod:`~skvaecf.benchmark.data`), the models by name (:mod:`~skvaecf.benchmark.registry`),
fitting, tuning on validation users and measuring accuracy and cost
(:mod:`~skvaecf.benchmark.runner`, :mod:`~skvaecf.benchmark.measure`), and the table, JSON,
Markdown and plot (:mod:`~skvaecf.benchmark.report`, :mod:`~skvaecf.benchmark.plot`).

Examples
--------
>>> from skvaecf.benchmark import BenchmarkConfig, run_benchmark
>>> report = run_benchmark(BenchmarkConfig(synthetic_users=300, synthetic_items=40,
...                                        models=["popularity"]))
>>> round(report.models[0]["summary"]["test"]["ndcg@100"], 2) > 0
True
"""

from skvaecf.benchmark.config import BenchmarkConfig, read_config_file
from skvaecf.benchmark.registry import (ModelSpec, ModelUnavailableError, available_models,
                                        get_model_spec)
from skvaecf.benchmark.report import format_table, write_report
from skvaecf.benchmark.runner import BenchmarkReport, run_benchmark

__all__ = [
    "BenchmarkConfig",
    "BenchmarkReport",
    "ModelSpec",
    "ModelUnavailableError",
    "available_models",
    "format_table",
    "get_model_spec",
    "read_config_file",
    "run_benchmark",
    "write_report",
]
