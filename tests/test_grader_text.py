"""Student-controlled text, made inert for each place the grader writes it."""

from __future__ import annotations

import json

import pytest
from nbconvert.filters import markdown2html

from autograder.grader import text
from autograder.grader.bounds import NOTEBOOK_OUTPUT_BYTES
from autograder.grader.extract import folder_digest, walk
from autograder.grader.sandbox import sanitize_outputs

ATTACKS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](https://example.com/x.png)",
    "**bold** `code` # heading",
    "&lt;img src=x onerror=alert(1)&gt;",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_renders_student_text_literally(attack):
    html = markdown2html(f"- {text.markdown(attack)}")
    assert "<img" not in html
    assert "<script" not in html
    assert "<a " not in html
    assert "<strong>" not in html
    assert "<code>" not in html


def test_terminal_text_shows_control_characters_instead_of_obeying_them():
    shown = text.terminal("\x1b[2K\r40/40\x07\u202e\nnext")
    assert shown == "\\x1b[2K\\x0d40/40\\x07\\u202e next"


def test_lone_surrogates_become_replacement_characters():
    assert text.clean("a\ud800b") == "a\ufffdb"
    assert text.deep_clean({"k\udcff": ["\ud800"]}) == {"k\ufffd": ["\ufffd"]}
    text.deep_clean({"x": "\ud800"})["x"].encode("utf-8")  # encodable now


def test_long_text_is_cut_with_a_mark():
    assert text.clean("x" * 1000, 10) == "x" * 9 + "\u2026"


def test_a_1200_level_folder_is_walked_without_recursion(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "Regularization.ipynb").write_text("{}")
    deep = folder
    for _ in range(1200):  # one level at a time: pathlib's own mkdir(parents=True) would recurse
        deep = deep / "d"
        deep.mkdir()
    found = walk(folder, depth=16)
    assert [rel for rel, _, _ in found][:2] == ["Regularization.ipynb", "d"]
    assert max(rel.count("/") for rel, _, _ in found) == 14  # 16 levels at most, counting the top
    assert len(folder_digest(folder)) == 64
    import subprocess

    subprocess.run(["rm", "-rf", "--", str(folder / "d")], check=True)  # pytest's clean-up recurses


def test_outputs_are_bounded_per_notebook_not_only_per_cell():
    cell = [{"output_type": "stream", "name": "stdout", "text": "x" * (1 << 20)}] * 3  # 3 MB
    budget, kept_total = NOTEBOOK_OUTPUT_BYTES, 0
    notes = []
    for _ in range(10):
        kept, used = sanitize_outputs(cell, budget)
        budget -= used
        kept_total += sum(len(o["text"]) for o in kept if "x" in o["text"])
        notes += [o["text"] for o in kept if "grader" in o["text"]]
    assert kept_total <= NOTEBOOK_OUTPUT_BYTES
    assert budget == 0
    assert any("outputs of this notebook exceeded 12 MB" in n for n in notes)


def test_a_graded_notebook_with_lone_surrogates_is_written_as_valid_utf8(tmp_path):
    from autograder.grader.gradebook import write_notebook

    notebook = {"cells": [{"source": "x\ud800y", "outputs": [{"text\udcff": ["\\ud800 stays text", "é"]}]}]}
    write_notebook(tmp_path / "n.ipynb", notebook)
    written = json.loads((tmp_path / "n.ipynb").read_bytes().decode("utf-8"))
    assert written == {
        "cells": [{"source": "x\ufffdy", "outputs": [{"text\ufffd": ["\\ud800 stays text", "é"]}]}]
    }
