"""What the README promises about installing matches pyproject.toml, requirements.txt and the installed torch."""

import re
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
