"""nbgrader plug-ins: release stubs that read like the assignment, and feedback without secrets.

In the source notebook a solution region opens with
``### BEGIN SOLUTION (approx. 4 lines)``. In the student release the region
becomes ``### START CODE HERE ### (approx. 4 lines)`` / ``### END CODE HERE ###``,
the stub the course has always used. The stub text itself comes from
``ClearSolutions.code_stub`` in nbgrader_config.py, with ``{lines}`` filled in.
"""

from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, NbGraderPreprocessor

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
    """Feedback without secrets: hidden-test source and failing asserts are not shown.

    nbgrader's feedback prints every test cell in full, hidden region and
    traceback included. Here a test cell keeps its one-line docstring and any
    visible lines, and a failure shows only the check's one-sentence reason.
    """

    def preprocess(self, nb, resources):
        self._hidden = ClearHiddenTests()
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            return cell, resources
        self._hidden._remove_hidden_test_region(cell)
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
