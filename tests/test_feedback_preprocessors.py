"""The feedback preprocessors on single cells: titles from docstrings, no hidden code, MathML maths."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.nbgrader_ext import OfflineMaths, RedactHiddenTests


def graded(source: str, outputs=()):
    cell = new_code_cell(source, outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "l2_cost_fixture", "points": 3}
    return cell


def run(preprocessor, *cells):
    notebook = new_notebook(cells=list(cells))
    preprocessor.preprocess(notebook, {})
    return notebook.cells


def test_a_test_cell_keeps_only_its_docstring_and_the_reason_it_failed():
    source = (
        '"""compute_cost_with_regularization: the fixture with lambd = 0.1."""\n'
        "assert np.isclose(placeholder, 1.78)\n"
        "### BEGIN HIDDEN TESTS\nrun_check('l2_cost_fixture', globals())\n### END HIDDEN TESTS\n"
    )
    failure = new_output("error", ename="CheckFailed", evalue="cost is 1.5, expected 1.786",
                         traceback=["Traceback (most recent call last):", "secret frame"])  # fmt: skip
    (cell,) = run(RedactHiddenTests(), graded(source, [failure]))
    assert (
        cell.metadata.nbgrader["title"] == "compute_cost_with_regularization: the fixture with lambd = 0.1."
    )
    assert cell.source == '"""compute_cost_with_regularization: the fixture with lambd = 0.1."""'
    assert [(o.output_type, o.text) for o in cell.outputs] == [
        ("stream", "Test failed: cost is 1.5, expected 1.786\n")
    ]


def test_a_test_cell_without_docstring_is_titled_by_its_id_and_shows_no_code():
    error = new_output("error", ename="NameError", evalue="name 'x' is not defined", traceback=[])
    (cell,) = run(RedactHiddenTests(), graded("assert x == 1\n", [error]))
    assert cell.metadata.nbgrader["title"] == "l2_cost_fixture"
    assert cell.source == ""
    assert cell.outputs[0].text == "Test failed: NameError: name 'x' is not defined\n"


def test_maths_becomes_mathml_and_prose_and_code_stay():
    text = (
        "The cost $J$ with a penalty:\n\n$$J = \\frac{1}{m} \\sum_i L_i \\tag{1}$$\n\n"
        "Costs `$5` nothing; keep $1 - keep\\_prob$."
    )
    (cell,) = run(OfflineMaths(), new_markdown_cell(text))
    assert "$" not in cell.source.replace("`$5`", "")
    assert cell.source.count("<math") == 3
    assert 'display="block"' in cell.source
    assert "<mfrac>" in cell.source
    assert "tag" not in cell.source  # \\tag, unknown to latex2mathml, became a plain "(1)" label
    assert cell.source.startswith("The cost ")
    assert "`$5`" in cell.source


def test_maths_latex2mathml_cannot_read_stays_visible_as_source():
    (cell,) = run(OfflineMaths(), new_markdown_cell("broken: $\\frac{1}{$ end"))
    assert "<code>" in cell.source or "<math" in cell.source
    assert cell.source.startswith("broken: ")
