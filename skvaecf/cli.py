"""The ``skvaecf`` command line (also ``python -m skvaecf``).

``skvaecf benchmark`` trains and compares the package's models on one dataset with the
strong-generalisation protocol and reports accuracy and cost; with no option it runs on
embedded synthetic data in about a minute on a laptop CPU. See ``skvaecf benchmark --help``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import logging
import sys
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

import skvaecf
from skvaecf.benchmark import (BenchmarkConfig, ModelUnavailableError, format_table,
                               read_config_file, run_benchmark, write_report)
from skvaecf.benchmark.config import DEFAULT_METRICS, SYNTHETIC_SIZE
from skvaecf.benchmark.data import DATASETS, FORMATS, guess_format
from skvaecf.benchmark.runner import select_models

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

#: Exit status of a run stopped with Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

_DESCRIPTION = """\
Train and compare the models on one dataset with the strong-generalisation protocol of
Liang et al. (2018): Recall@20, Recall@50 and NDCG@100 on test users (epochs and
parameters chosen on validation users), fit time, time per epoch, ranking throughput and
peak memory."""

_EPILOG = """\
examples:
  skvaecf benchmark                                   # synthetic data, all models, ~1 min
  skvaecf benchmark --dataset ml-1m --epochs 100      # fetched into the cache
  skvaecf benchmark --dataset ~/data/ml-1m --models multvae,ease --output-dir out
  skvaecf benchmark --config benchmarks/configs/ml20m.toml --device cuda

Results go to OUTPUT_DIR/results.json, results.md and validation_ndcg.png, rewritten after
every model; Ctrl-C keeps the models already finished (exit status 130).
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    if text == "0":
        return 0
    return _positive_int(text)


def _users(text: str) -> int | float:
    """A number of users (integer >= 1) or a fraction of the users (0 < x < 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value.is_integer() and value >= 1:
        return int(value)
    if 0 < value < 1:
        return value
    raise argparse.ArgumentTypeError(f"{text!r} must be a number of users (>= 1) or a "
                                     "fraction in (0, 1)")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of names")
    return names


def _param(text: str) -> tuple[str, str, object]:
    """``MODEL.NAME=VALUE``; the value is a Python literal, else kept as a string."""
    target, equals, raw = text.partition("=")
    model, dot, name = target.partition(".")
    if not (equals and dot and model and name):
        raise argparse.ArgumentTypeError(f"{text!r} is not of the form MODEL.PARAMETER=VALUE")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return model.strip().lower(), name.strip(), value


def _add_benchmark_options(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data and protocol")
    data.add_argument("--config", metavar="FILE", help="TOML file of settings (see "
                      "benchmarks/configs/); options given here override it")
    data.add_argument("--dataset", metavar="NAME|PATH",
                      help=f"a dataset name ({', '.join(DATASETS)}), fetched into or found "
                      "in the cache, or a local file or folder (default: synthetic)")
    data.add_argument("--format", choices=list(FORMATS),
                      help="layout of a local dataset (default: guessed from file names)")
    data.add_argument("--data-home", metavar="DIR",
                      help="cache folder of downloaded datasets (default: $SKVAECF_DATA or "
                      "~/skvaecf_data)")
    data.add_argument("--no-download", dest="download", action="store_false",
                      help="fail instead of downloading a dataset missing from the cache")
    data.add_argument("--synthetic-users", type=_positive_int, metavar="N",
                      help=f"users of the synthetic data (default: {SYNTHETIC_SIZE[0]})")
    data.add_argument("--synthetic-items", type=_positive_int, metavar="N",
                      help=f"items of the synthetic data (default: {SYNTHETIC_SIZE[1]})")
    data.add_argument("--min-rating", type=_number, metavar="X",
                      help="ratings >= X become clicks, for data with ratings (default: 4)")
    data.add_argument("--min-user-interactions", type=_non_negative_int, metavar="N",
                      help="keep users with >= N clicks (default: 5, MSD: 20)")
    data.add_argument("--min-item-users", type=_non_negative_int, metavar="N",
                      help="first keep items with >= N users (default: 0, MSD: 200)")
    data.add_argument("--n-validation-users", type=_users, metavar="N",
                      help="validation users, a count or a fraction (default: published "
                      "count, or 0.1)")
    data.add_argument("--n-test-users", type=_users, metavar="N",
                      help="test users, a count or a fraction (default: published count, "
                      "or 0.1)")
    data.add_argument("--metrics", type=_names, metavar="LIST",
                      help=f"test metrics (default: {','.join(DEFAULT_METRICS)})")

    models = parser.add_argument_group("models and budget")
    models.add_argument("--models", type=_names, metavar="LIST",
                        help="comma-separated model names: multvae, anchoredvae, ease, als, "
                        "popularity (default: all available)")
    models.add_argument("--param", dest="params", type=_param, action="append",
                        metavar="MODEL.NAME=VALUE",
                        help="set an estimator parameter, e.g. multvae.beta=0.3 (repeatable)")
    models.add_argument("--device", metavar="auto|cpu|cuda",
                        help="torch device (default: auto, CUDA when available)")
    models.add_argument("--epochs", type=_positive_int, metavar="N",
                        help="epochs of the VAE models (default: 200, synthetic: 30)")
    models.add_argument("--threads", type=_positive_int, metavar="N",
                        help="torch CPU threads (default: torch's choice, usually the "
                        "number of cores); use 1 on a CPU busy with other jobs, where "
                        "several threads can run many times slower")
    models.add_argument("--seeds", type=_positive_int, metavar="N",
                        help="repetitions with seeds 0..N-1, each with its own split "
                        "(default: 1)")

    output = parser.add_argument_group("output")
    output.add_argument("--output-dir", metavar="DIR",
                        help="folder of the results (default: skvaecf-benchmark/DATASET)")
    loudness = output.add_mutually_exclusive_group()
    loudness.add_argument("--verbose", "-v", action="store_true", default=False,
                          help="log every step of every model")
    loudness.add_argument("--quiet", "-q", action="store_true", default=False,
                          help="no progress bars or log lines; print the table only")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``skvaecf`` command.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> from skvaecf.cli import build_parser
    >>> build_parser().parse_args(["benchmark", "--epochs", "3"]).epochs
    3
    """
    parser = argparse.ArgumentParser(
        prog="skvaecf", description="Variational-autoencoder collaborative filtering.")
    parser.add_argument("--version", action="version",
                        version=f"skvaecf {skvaecf.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    benchmark = commands.add_parser(
        "benchmark", help="train and compare the models on a dataset",
        description=_DESCRIPTION,
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS)
    _add_benchmark_options(benchmark)
    return parser


def _config_from_arguments(parser, arguments: argparse.Namespace) -> BenchmarkConfig:
    """Settings of the config file, overridden by the options given on the command line."""
    given = vars(arguments)
    settings = {}
    if "config" in given:
        try:
            settings = read_config_file(given["config"])
        except (OSError, ValueError, ModuleNotFoundError) as error:
            parser.error(str(error))

    for name in ("dataset", "format", "data_home", "download", "synthetic_users",
                 "synthetic_items", "min_rating", "min_user_interactions", "min_item_users",
                 "n_validation_users", "n_test_users", "models", "device", "threads", "epochs",
                 "seeds", "output_dir"):
        if name in given:
            settings[name] = given[name]
    if "metrics" in given:
        settings["metrics"] = tuple(given["metrics"])
    for model, name, value in given.get("params", []):
        settings.setdefault("params", {}).setdefault(model, {})[name] = value
    settings["progress"] = not arguments.quiet

    config = BenchmarkConfig(**settings)
    try:
        config.check()
    except ValueError as error:
        parser.error(str(error))
    _check_models(parser, config)
    _check_dataset(parser, config)
    return config


def _check_models(parser, config: BenchmarkConfig) -> None:
    try:
        select_models(config)
    except (ValueError, ModelUnavailableError) as error:
        parser.error(str(error))


def _check_dataset(parser, config: BenchmarkConfig) -> None:
    if config.dataset in DATASETS:
        return
    path = Path(config.dataset).expanduser()
    if not path.exists():
        parser.error(f"--dataset: {config.dataset!r} is neither a dataset name "
                     f"({', '.join(DATASETS)}) nor an existing file or folder")
    if config.format is None:
        try:
            guess_format(path)
        except ValueError as error:
            parser.error(f"--dataset: {error} (--format)")


@contextlib.contextmanager
def _logging_to_stderr(verbose: bool, quiet: bool):
    """Show the package's log lines on stderr while the command runs, then restore.

    By default only the benchmark's own lines (which model, which seed, results) are
    shown; ``verbose`` adds every step of the models and the data loaders.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    levels = {"skvaecf": logging.INFO if verbose else logging.WARNING,
              "skvaecf.benchmark": logging.WARNING if quiet else logging.INFO,
              "skvaecf.cli": logging.WARNING if quiet else logging.INFO}
    previous = {name: logging.getLogger(name).level for name in levels}

    package = logging.getLogger("skvaecf")
    package.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        with logging_redirect_tqdm(loggers=[package]):
            yield
    finally:
        package.removeHandler(handler)
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def _default_output_dir(config: BenchmarkConfig) -> Path:
    label = config.dataset if config.dataset in DATASETS else Path(config.dataset).name
    return Path("skvaecf-benchmark") / label


def _benchmark(parser, arguments: argparse.Namespace, command: str) -> int:
    config = _config_from_arguments(parser, arguments)
    output_dir = Path(config.output_dir) if config.output_dir else _default_output_dir(config)

    def save(report) -> None:
        report.settings["command"] = command
        report.settings["output_dir"] = str(output_dir)
        write_report(report, output_dir)

    try:
        report = run_benchmark(config, on_model_finished=save)
    except (OSError, ValueError, ModelUnavailableError) as error:
        logger.error("skvaecf benchmark: error: %s", error)
        return 1

    save(report)
    sys.stdout.write(format_table(report) + "\n")
    logger.info("results written to %s", output_dir)
    if report.interrupted:
        return EXIT_INTERRUPTED
    return 1 if any(model["status"] != "finished" for model in report.models) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``skvaecf`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        Exit status: 0 on success, 1 if a model or the data failed, 2 for a usage error
        (raised as SystemExit by argparse), 130 if interrupted.

    Examples
    --------
    >>> import tempfile
    >>> from skvaecf.cli import main
    >>> main(["benchmark", "--models", "popularity", "--synthetic-users", "300",
    ...       "--synthetic-items", "40", "--quiet", "--output-dir", tempfile.mkdtemp()])
    model  ...
    popularity ...
    0
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return 0

    command = " ".join(["skvaecf", *argv])
    with _logging_to_stderr(arguments.verbose, arguments.quiet):
        return _benchmark(parser, arguments, command)
