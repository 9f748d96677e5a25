"""Sphinx directives of the skvaecf documentation.

``example-output`` runs an example script at build time and shows what it prints, with the
figures it draws, so the gallery always shows the output of the code as it is today. A script
that fails is reported as an error, which fails a build run with ``-W``.

``command-help`` shows the ``--help`` text of the ``skvaecf`` command line, taken from the
installed package at build time.

Markdown files of the repository included in a page (``benchmarks/README.md``) link to
other files of the repository, which are not pages of the site: those links are rewritten
into the file's repository path, in code font.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import posixpath
import re
import runpy
import sys
import tempfile
import time
import traceback
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


#: Output and figures of the scripts already run, by (path, modification time, arguments).
_OUTPUTS: dict[tuple, tuple[str, list[bytes]]] = {}


class ExampleOutput(SphinxDirective):
    """Run an example script and insert its standard output and its figures.

    The argument is the script's path relative to the current document, as for
    ``literalinclude``; the ``:args:`` option gives command-line arguments. The script
    runs inside the Sphinx process as ``__main__`` (as sphinx-gallery does): torch and the
    package are imported once for the whole build rather than once per example.
    """

    required_arguments = 1
    option_spec = {"args": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        relative, script = self.env.relfn2path(self.arguments[0])
        arguments = self.options.get("args", "").split()
        script = Path(script)
        if not script.is_file():
            raise self.error(f"example script not found: {script}")
        self.env.note_dependency(relative)

        key = (str(script), script.stat().st_mtime_ns, tuple(arguments))
        if key not in _OUTPUTS:  # a script shown on two pages runs once per build
            started = time.perf_counter()
            try:
                _OUTPUTS[key] = _run_example(script, arguments)
            except Exception as exc:
                trace = traceback.format_exc(limit=-8)
                raise self.error(f"example {script.name} failed: {exc!r}\n{trace}") from exc
            logger.info("example %s ran in %.1f s", script.name, time.perf_counter() - started)
        output, figures = _OUTPUTS[key]

        text = output.rstrip() or "(no output)"
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        title = "Output:"
        if arguments:
            title = f"Output of python {script.name} {' '.join(arguments)}:"
        return [nodes.paragraph(text=title), block, *map(_embedded_image, figures)]


def _run_example(script: Path, arguments: list[str]) -> tuple[str, list[bytes]]:
    """Run ``script`` with command-line ``arguments`` in a scratch folder; return its
    standard output and its figures as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    plt.close("all")
    threads = torch.get_num_threads()
    # One thread: on a busy machine torch's thread pool makes these small examples many
    # times slower, not faster.
    torch.set_num_threads(1)
    stdout = io.StringIO()
    old_cwd, old_argv = os.getcwd(), sys.argv
    try:
        with tempfile.TemporaryDirectory() as work_dir:
            os.chdir(work_dir)  # files the script writes land in a scratch folder
            try:
                sys.argv = [str(script), *arguments]
                with contextlib.redirect_stdout(stdout):
                    runpy.run_path(str(script), run_name="__main__")
            finally:
                os.chdir(old_cwd)
        figures = []
        for number in plt.get_fignums():
            buffer = io.BytesIO()
            plt.figure(number).savefig(buffer, format="png", dpi=90, bbox_inches="tight")
            figures.append(buffer.getvalue())
    finally:
        sys.argv = old_argv
        torch.set_num_threads(threads)
        plt.close("all")
    return stdout.getvalue(), figures


def _embedded_image(png: bytes) -> nodes.raw:
    """An HTML image with the PNG inlined, so no file has to be placed in the output."""
    data = base64.b64encode(png).decode("ascii")
    html = (f'<img class="example-figure" alt="figure drawn by the example" '
            f'src="data:image/png;base64,{data}"/>')
    return nodes.raw("", html, format="html")


class CommandHelp(SphinxDirective):
    """Insert the ``--help`` text of ``skvaecf`` (arguments: the sub-command, if any)."""

    optional_arguments = 5

    def run(self) -> list[nodes.Node]:
        from skvaecf.cli import main

        stdout = io.StringIO()
        old_argv, old_columns = sys.argv, os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "96"  # argparse wraps the help text at this width
        try:
            sys.argv = ["skvaecf", *self.arguments, "--help"]
            with contextlib.redirect_stdout(stdout):
                main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise self.error(f"'skvaecf {' '.join(self.arguments)} --help' exited with "
                                 f"status {exc.code}") from exc
        finally:
            sys.argv = old_argv
            if old_columns is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = old_columns

        text = stdout.getvalue().rstrip()
        if not text:
            raise self.error(f"'skvaecf {' '.join(self.arguments)} --help' printed nothing")
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


#: A Markdown link ``[text](target)`` that is not an image and whose target is a relative
#: path (no URL scheme, no in-page anchor).
_LOCAL_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|#)([^)\s]+)\)")


def _repository_paths(app, relative_path, parent_docname, content) -> None:
    """Rewrite links of an included Markdown file to repository files as their paths."""
    if Path(relative_path).suffix != ".md":
        return
    folder = posixpath.relpath(
        posixpath.normpath((Path(app.srcdir) / relative_path).parent.as_posix()),
        Path(app.srcdir).parent.as_posix())

    def rewrite(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path = posixpath.normpath(posixpath.join(folder, target.split("#")[0]))
        if text.strip("`") in (target, posixpath.basename(target.rstrip("/")), path):
            return f"`{path}`"
        return f"{text} (`{path}`)"

    content[0] = _LOCAL_LINK.sub(rewrite, content[0])


def setup(app):
    app.add_directive("example-output", ExampleOutput)
    app.add_directive("command-help", CommandHelp)
    app.connect("include-read", _repository_paths)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
