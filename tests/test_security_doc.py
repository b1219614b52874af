"""docs/SECURITY.md names only tests that exist, and every threat in it names at least one."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SECURITY_MD = REPO_ROOT / "docs" / "SECURITY.md"
# tests/<path>.py::test_name; a parametrized test is named without its [brackets].
TEST_REFERENCE = re.compile(r"\b(tests/[\w/]+\.py)::(test_\w+)")


def references() -> list[tuple[str, str]]:
    """Every (file, test name) the document names, in order, without repeats."""
    return list(dict.fromkeys(TEST_REFERENCE.findall(SECURITY_MD.read_text())))


@cache
def defined_tests(path: str) -> frozenset[str]:
    """The module-level test functions (sync or async) a test file defines."""
    tree = ast.parse((REPO_ROOT / path).read_text(), filename=path)
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    )


def threat_rows() -> list[str]:
    """The body rows of every table with a "proven by" column."""
    rows, in_threat_table = [], False
    for line in SECURITY_MD.read_text().splitlines():
        if not line.startswith("|"):
            in_threat_table = False
        elif "proven by" in line:
            in_threat_table = True
        elif in_threat_table and not set(line) <= set("|- "):
            rows.append(line)
    return rows


def test_the_threat_model_names_tests():
    """The document exists and names a real number of tests, so the check below means something."""
    assert len(references()) >= 50
    assert len(threat_rows()) >= 40


@pytest.mark.parametrize("reference", references(), ids="::".join)
def test_every_test_the_threat_model_names_exists(reference):
    """Each tests/…py::test_… in docs/SECURITY.md is a test function in that file."""
    path, name = reference
    assert (REPO_ROOT / path).is_file(), f"docs/SECURITY.md names {path}, which does not exist"
    assert name in defined_tests(path), f"docs/SECURITY.md names {path}::{name}, which does not exist"


def test_every_threat_names_the_test_that_proves_it():
    """No row of a threat table is left without a test."""
    unproven = [row for row in threat_rows() if not TEST_REFERENCE.search(row)]
    assert unproven == []
