"""What the README promises about installing and testing matches pyproject.toml, requirements.txt, setup.sh and .ci/run."""

import re
import subprocess
import tomllib
from importlib.metadata import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def _lowest(specifiers: str) -> Version:
    """The lowest version a specifier set such as '>=3.10' or '>=3.10,!=3.14.1' admits by its '>=' bound."""
    return max(Version(spec.version) for spec in SpecifierSet(specifiers) if spec.operator == ">=")


def test_python_requirement_admits_no_python_the_pinned_torch_lacks():
    pinned = re.search(r"^torch==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE).group(1)
    if Version(metadata("torch")["Version"]).base_version != pinned:
        pytest.skip(f"torch {metadata('torch')['Version']} installed, not the pinned {pinned}")
    ours = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert _lowest(ours) >= _lowest(metadata("torch")["Requires-Python"])
    readme = re.search(r"^- Python >= (\S+?):", (REPO / "README.md").read_text(), re.MULTILINE).group(1)
    assert Version(readme) == _lowest(ours)


def _readme_test_command() -> str:
    block = re.search(r"^Tests \(.*?```bash\n(.*?)\n```", (REPO / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    return block.group(1).strip()


def test_ci_runs_the_readme_test_command_which_needs_no_activated_shell():
    command = _readme_test_command()
    ci_commands = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert ci_commands[-1] == command  # the last thing CI does, character for character
    assert command.startswith(".venv/bin/python ")  # the environment setup.sh makes, not whatever `python` a new shell finds
    assert "[ -d .venv ] || python3 -m venv .venv" in (REPO / "setup.sh").read_text()


def test_readme_test_command_runs_in_a_fresh_shell():
    """Where setup.sh has made .venv (CI does), the command as written finds pytest and the package from a shell
    with no virtual environment activated and no PYTHONPATH."""
    if not (REPO / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv here (setup.sh or .ci/run makes it)")
    fresh = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(Path.home())}
    command = _readme_test_command() + " --collect-only tests/test_packaging.py"
    done = subprocess.run(["bash", "-c", command], cwd=REPO, env=fresh, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_readme_test_command_runs_in_a_fresh_shell" in done.stdout
