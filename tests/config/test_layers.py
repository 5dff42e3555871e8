"""The layering (docs/decisions/0009) is a contract `make lint` checks with import-linter
(`[tool.importlinter]` in pyproject.toml): each package imports only the packages below it
(config > citations > search > annotations > sources > jobs > core), a concern in a
subpackage builds on its package and never the reverse, and no modules of one package
import each other in a loop. Here the linter runs on the code as it is, and on copies with
one import reversed: each reversal must fail the lint, naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "core", "jobs", "sources", "annotations", "search", "citations"]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy, ahead of the installed tree
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the packages and their contracts, to break."""
    root = tmp_path_factory.mktemp("layers")
    for package in PACKAGES:
        shutil.copytree(
            BASE_DIR / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(BASE_DIR / "pyproject.toml", root)
    return root


def test_the_code_keeps_every_contract():
    result = lint(BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


REVERSALS = [
    # the library learning of what is written on it (as sources/models.py once did)
    ("sources/models.py", "from annotations import models", "sources is not allowed to import"),
    # jobs running work it knows by name, instead of the work registered with it
    ("jobs/runner.py", "from sources import jobs", "jobs is not allowed to import sources"),
    # the toolkit reaching into an app
    ("core/rows.py", "from sources import models", "core is not allowed to import sources"),
    # the annotations calling the index, instead of the index following their signals
    ("annotations/models.py", "from search import index", "annotations is not allowed to import"),
    # the library's own modules reaching into a concern built on them
    ("sources/models.py", "from sources.sharing import members", "sources.models is not allowed"),
    # the annotation model importing its writer: the knot of the first wave
    ("annotations/models.py", "from annotations import writes", "No cycles are allowed in"),
]


@pytest.mark.parametrize(("module", "reversed_import", "refusal"), REVERSALS)
def test_a_reversed_import_fails_the_lint(tree, module, reversed_import, refusal):
    path = tree / module
    original = path.read_text(encoding="utf-8")
    path.write_text(f"{original}\n{reversed_import}  # reversed\n", encoding="utf-8")
    try:
        result = lint(tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    assert refusal in result.stdout, result.stdout
