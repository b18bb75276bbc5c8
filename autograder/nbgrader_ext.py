"""nbgrader plug-ins: release stubs that read like the assignment, and feedback without secrets.

Feedback is also readable offline: tests are titled by their docstrings,
and ``OfflineMaths`` turns the LaTeX of markdown cells into MathML.

In the source notebook a solution region opens with
``### BEGIN SOLUTION (approx. 4 lines)``. In the student release the region
becomes ``### START CODE HERE ### (approx. 4 lines)`` / ``### END CODE HERE ###``,
the stub the course has always used. The stub text itself comes from
``ClearSolutions.code_stub`` in nbgrader_config.py, with ``{lines}`` filled in.
"""

from __future__ import annotations

import ast
import html
import re

from latex2mathml.converter import convert as latex_to_mathml
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

_APPROX = re.compile(r"\(approx\.\s*([^)]*)\)")


class CodeHereStubs(ClearSolutions):
    """ClearSolutions whose stub carries the line count written on the BEGIN line."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code" or "{lines}" not in self.code_stub.get(language, ""):
            return super()._replace_solution_region(cell, language)
        template = self.code_stub[language]
        lines_out, in_solution, replaced = [], False, False
        for line in cell.source.split("\n"):
            if self.begin_solution_delimeter in line:
                if in_solution:
                    raise RuntimeError("encountered nested begin solution statements")
                in_solution = replaced = True
                indent = re.match(r"\s*", line).group(0)
                found = _APPROX.search(line)
                stub = template.format(lines=found.group(1) if found else "a few lines")
                lines_out.extend(indent + stub_line for stub_line in stub.split("\n"))
            elif self.end_solution_delimeter in line:
                in_solution = False
            elif not in_solution:
                lines_out.append(line)
        if in_solution:
            raise RuntimeError("no end solution statement found")
        cell.source = "\n".join(lines_out)
        return replaced


class RedactHiddenTests(NbGraderPreprocessor):
    """Feedback without secrets: a test cell shows only what it checks and why it failed.

    nbgrader's feedback prints every test cell in full, hidden region and
    traceback included. Here a test cell keeps only its one-line docstring
    (also its title in the feedback's list of tests), no placeholder code,
    and a failure shows only the check's one-sentence reason.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            return cell, resources
        title = _docstring(cell.source)
        cell.metadata.nbgrader["title"] = title or cell.metadata.nbgrader.get("grade_id", "test")
        cell.source = f'"""{title}"""' if title else ""
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                reason = output.get("evalue", "").strip() or output.get("ename", "error")
                if output.get("ename") not in ("CheckFailed", "AssertionError"):
                    reason = f"{output.get('ename')}: {reason}"
                outputs.append(new_output("stream", name="stdout", text=f"Test failed: {reason}\n"))
            else:
                outputs.append(output)
        cell.outputs = outputs
        return cell, resources


def _docstring(source: str) -> str:
    """The first line of a test cell's opening docstring, or "" (also for code that does not parse)."""
    try:
        tree = ast.parse(source.split("### BEGIN HIDDEN TESTS")[0])
    except SyntaxError:
        return ""
    doc = ast.get_docstring(tree) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


_CODE_SPAN = re.compile(r"(`[^`]*`)")
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


class OfflineMaths(NbGraderPreprocessor):
    """Markdown maths as MathML, so that the feedback page needs no MathJax and no network.

    Browsers render MathML themselves. A formula latex2mathml cannot read is
    left as its LaTeX source, escaped, rather than failing the feedback.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            # Code spans (`...`) are left alone: a dollar there is text, not maths.
            parts = _CODE_SPAN.split(cell.source)
            for k in range(0, len(parts), 2):
                text = _DISPLAY.sub(lambda m: "\n\n" + _mathml(m.group(1), "block") + "\n\n", parts[k])
                parts[k] = _INLINE.sub(lambda m: _mathml(m.group(1), "inline"), text)
            cell.source = "".join(parts)
        return cell, resources


def _mathml(latex: str, display: str) -> str:
    latex = re.sub(r"\\tag\{([^}]*)\}", r"\\qquad (\1)", latex.strip())
    try:
        return latex_to_mathml(latex, display=display)
    except Exception:  # an unknown command: show the source instead of nothing
        return f"<code>{html.escape(latex)}</code>"
