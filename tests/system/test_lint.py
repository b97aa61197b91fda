"""The code base keeps its own rules: ruff, mypy, the layers' import contract, one
process runner, one reader of the environment (settings in pyproject.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "skiffbuild"


def _tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_ruff_is_clean() -> None:
    result = _tool("ruff", "check", "--output-format", "concise", str(ROOT))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _tool("mypy", "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_import_only_downwards() -> None:
    # pyproject.toml's [tool.importlinter]: app > engine > farm > release > image > sources >
    # buildroot > model > core.
    # Through this interpreter, not a lint-imports script beside it (a venv made with
    # --system-site-packages has the library but not the script).
    result = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import "
                             "lint_imports_command as c; sys.argv[0] = 'lint-imports'; "
                             "sys.exit(c())", "--no-cache"],
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(ROOT)), ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))]


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _attributes(tree: ast.Module) -> set[str]:
    """``os.environ``, ``sys.argv``, ``os.getenv``… as written."""
    return {f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}


def test_only_the_runner_starts_processes() -> None:
    launching = {"subprocess", "git", "pty", "multiprocessing"}
    offenders = {name: sorted(_imports(tree) & launching) for name, tree in _modules()
                 if _imports(tree) & launching}
    assert offenders == {"skiffbuild/core/runner.py": ["subprocess"]}
    forks = {name for name, tree in _modules()
             if _attributes(tree) & {"os.system", "os.popen", "os.fork", "os.execv",
                                     "os.execvp", "os.spawnv", "os.posix_spawn"}}
    assert forks == set()


# Where the process environment and command line may be read, and why.
ENVIRONMENT_READERS = {
    # The one place settings come from.
    "skiffbuild/core/settings.py",
    # Child processes inherit the environment, scrubbed, through the runner.
    "skiffbuild/core/runner.py",
    # kconfiglib reads os.environ itself; the shim gives each thread its own view
    # on top of it instead of writing it (issue 11, finding 1).
    "skiffbuild/buildroot/kconfig.py",
}


def test_only_the_settings_read_the_environment_and_command_line() -> None:
    readers = {name for name, tree in _modules()
               if _attributes(tree) & {"os.environ", "os.getenv", "os.putenv", "sys.argv",
                                       "os.environb", "os.unsetenv"}}
    assert readers <= ENVIRONMENT_READERS, sorted(readers - ENVIRONMENT_READERS)
    assert "skiffbuild/core/settings.py" in readers


@pytest.mark.parametrize("module", ["skiffbuild.engine.tasks", "skiffbuild.app.cli",
                                    "skiffbuild.buildroot.compile", "skiffbuild.image.assemble"])
def test_importing_does_no_work(module: str, tmp_path: Path) -> None:
    # From a directory that is no project, with no environment: an import that looked
    # for a project, made directories or exited would fail or leave something here.
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_module_is_too_long() -> None:
    lengths = {str(path.relative_to(ROOT)): len(path.read_text().splitlines())
               for path in PACKAGE.rglob("*.py")}
    assert {name: n for name, n in lengths.items() if n > 620} == {}
