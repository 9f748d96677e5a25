"""The documentation: it builds, its examples run, and it covers every public name.

* ``test_site_builds_with_warnings_as_errors`` builds the whole Sphinx site, in a temporary
  copy of ``docs/``, ``examples/`` and ``benchmarks/``, with the documented command (``-W``:
  warnings are errors). The build runs every script of the example gallery, so it also
  checks that the examples work. It is the slowest test of this file (tens of seconds on
  two CPU cores); the other tests reuse its output.
* The docstring tests check that every public class and function has the numpydoc sections
  the project requires. The Examples sections themselves run as doctests through pytest's
  ``--doctest-modules`` over ``skvaecf/``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_parser")
from numpydoc.docscrape import NumpyDocString  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: Modules whose ``__all__`` is the public API.
PUBLIC_MODULES = ["skvaecf", "skvaecf.metrics", "skvaecf.model_selection", "skvaecf.datasets",
                  "skvaecf.diagnostics", "skvaecf.tuning", "skvaecf.benchmark", "skvaecf.cli"]

#: The build command documented in docs/README.md, with source and output folders appended.
BUILD_COMMAND = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]


def _public_objects() -> dict[int, tuple[list[str], object]]:
    """Every public object, by identity, with all the dotted names it is exported under."""
    objects: dict[int, tuple[list[str], object]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            objects.setdefault(id(value), ([], value))[0].append(f"{module_name}.{name}")
    return objects


PUBLIC = sorted(_public_objects().values(), key=lambda entry: entry[0][0])
CALLABLES = [(names[0], value) for names, value in PUBLIC
             if inspect.isclass(value) or inspect.isfunction(value)]


# ------------------------------------------------------------------------- the site
@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """Build the site from a copy of the sources; return the HTML folder.

    The copy keeps the layout of the repository (``docs/`` next to ``examples/`` and
    ``benchmarks/``) and leaves out earlier outputs, so that the API stubs are generated
    afresh and nothing is written into the working tree.
    """
    work = tmp_path_factory.mktemp("site")
    ignore = shutil.ignore_patterns("_build", "generated", "__pycache__", "*.db")
    shutil.copytree(DOCS, work / "docs", ignore=ignore)
    shutil.copytree(ROOT / "examples", work / "examples", ignore=ignore)
    shutil.copytree(ROOT / "benchmarks", work / "benchmarks", ignore=ignore)

    html = work / "html"
    command = BUILD_COMMAND + ["-q", "-d", str(work / "doctrees"), str(work / "docs"), str(html)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=1200,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    if completed.returncode != 0:
        pytest.fail(f"the documentation build failed (exit status {completed.returncode}):\n"
                    f"{completed.stderr[-6000:]}", pytrace=False)
    return html


def test_site_builds_with_warnings_as_errors(built_site):
    assert (built_site / "index.html").is_file()
    assert (built_site / "api" / "index.html").is_file()


def test_readme_of_docs_gives_the_build_command():
    readme = (DOCS / "README.md").read_text()
    assert "python -m sphinx -W --keep-going -b html docs docs/_build/html" in readme


@pytest.mark.parametrize("names, value", PUBLIC, ids=[names[0] for names, _ in PUBLIC])
def test_public_name_has_a_page_in_the_api_reference(built_site, names, value):
    pages = [built_site / "api" / "generated" / f"{name}.html" for name in names]
    assert any(page.is_file() for page in pages), (
        f"{names[0]} is public but has no page in the API reference: add it to an "
        f"autosummary list of docs/api/index.rst (looked for {[p.name for p in pages]})")


def test_the_readme_example_runs_and_its_search_tells_the_betas_apart():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert len(blocks) == 1, "README.md should hold exactly one Python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102

    scores = namespace["search"].cv_results_["mean_test_score"]
    assert len(set(scores)) == len(scores), "the grid's candidates all scored the same"
    assert 0.0 < namespace["model"].score(namespace["split"].test_fold_in,
                                          namespace["split"].test_held_out) <= 1.0


def test_every_example_script_is_in_the_gallery():
    gallery = "\n".join(path.read_text() for path in DOCS.rglob("*.rst"))
    missing = [script.name for script in sorted((ROOT / "examples").glob("*.py"))
               if f"examples/{script.name}" not in gallery]
    assert not missing, f"example scripts not shown in the documentation: {missing}"


def test_example_page_shows_the_output_of_its_script(built_site):
    page = (built_site / "examples" / "first_model.html").read_text()
    assert "test NDCG@100:" in page


def test_interactive_examples_in_the_guide_pass_as_doctests():
    pages = [path for path in sorted(DOCS.rglob("*.rst")) if ">>> " in path.read_text()]
    assert pages, "the guide has no interactive example left to check"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for page in pages:
        result = doctest.testfile(str(page), module_relative=False, optionflags=flags)
        assert result.failed == 0, f"{result.failed} interactive example(s) failed in {page}"


# ------------------------------------------------------------------------- docstrings
def _documented_names(doc: NumpyDocString, *sections: str) -> set[str]:
    """Names documented in numpydoc sections; ``a, b : int`` documents both."""
    names = set()
    for section in sections:
        for parameter in doc[section]:
            names.update(part.strip().lstrip("*") for part in parameter.name.split(","))
    return names


def _signature_parameters(value) -> list[str]:
    target = value.__init__ if inspect.isclass(value) else value
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [name for name, parameter in signature.parameters.items()
            if name != "self" and parameter.kind not in skipped]


def _own_docstring(value) -> str:
    docstring = inspect.getdoc(value) or ""
    assert docstring.strip(), "has no docstring"
    return docstring


@pytest.mark.parametrize("name, value", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_public_callable_documents_every_parameter(name, value):
    doc = NumpyDocString(_own_docstring(value))
    # Result containers (dataclasses) document their fields as Attributes.
    sections = ("Parameters", "Attributes") if inspect.isclass(value) else ("Parameters",)
    missing = [p for p in _signature_parameters(value)
               if p not in _documented_names(doc, *sections)]
    assert not missing, f"{name}: parameters missing from the docstring: {missing}"


@pytest.mark.parametrize("name, value",
                         [(n, v) for n, v in CALLABLES if inspect.isfunction(v)],
                         ids=[n for n, v in CALLABLES if inspect.isfunction(v)])
def test_public_function_has_a_returns_section(name, value):
    doc = NumpyDocString(_own_docstring(value))
    assert doc["Returns"] or doc["Yields"], f"{name}: no Returns section"


@pytest.mark.parametrize("name, value", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_public_callable_has_an_examples_section(name, value):
    doc = NumpyDocString(_own_docstring(value))
    examples = "\n".join(doc["Examples"])
    assert re.search(r"^>>> ", examples, re.MULTILINE), (
        f"{name}: no Examples section with a doctest (>>> lines)")
