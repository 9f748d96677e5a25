"""Sphinx configuration of the skvaecf documentation.

Build (from the repository root, warnings are errors):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: no intersphinx, the built-in alabaster theme, MathJax loaded by
the reader's browser. myst-parser reads the Markdown of ``benchmarks/README.md``.
"""

import sys
from pathlib import Path

import skvaecf

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# -- Project ------------------------------------------------------------------------------
project = "skvaecf"
author = "skvaecf developers"
copyright = "2026, skvaecf developers"
release = skvaecf.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "skvaecf_docs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# Targets for in-page links of benchmarks/README.md such as [the table](#accuracy).
myst_heading_anchors = 3
templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md"]
root_doc = "index"
default_role = "literal"

# -- API reference ------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # the numpydoc sections already give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML ---------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"skvaecf {release}"
html_static_path = []
html_theme_options = {
    "description": "Variational-autoencoder collaborative filtering for scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
