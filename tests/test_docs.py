"""The documentation cannot rot: every command the README and the docs show is parsed by that command's real parser
(a flag that does not exist fails, naming the page and the line), every relative link and image resolves, the site
builds with `mkdocs build --strict` and needs nothing from the network, and every page of it opens in headless
Chromium with its images and without a console error (a screenshot of the home page is kept in
runs/test-artifacts/docs-home.png)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lrsdetr import commands
from lrsdetr.utils.command import Command

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "runs" / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img[^>]+src=\"([^\"]+)\"")
WRAPPERS = {"nice": 2, "timeout": 1, "setsid": 0, "nohup": 0, "time": 0}  # words before the command, and their arguments
SHELL_SPLIT = re.compile(r"\s(?:&&|\|\||;|\|)\s")


def documentation(root: Path = REPO) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def shown_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of every line that may show a command: code-block lines (a `\\` continuation joined, a
    `$ ` prompt dropped) and inline code spans."""
    found, block, pending = [], False, None
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            block = not block
            continue
        if block:
            line = line.strip().removeprefix("$ ")
            start, joined = pending if pending else (number, "")
            joined += line.removesuffix("\\") + " "
            pending = (start, joined) if line.endswith("\\") else None
            if pending is None:
                found.append((start, joined.strip()))
        else:
            found += [(number, span) for span in INLINE_CODE.findall(line)]
    return found


def invocations(line: str) -> list[list[str]]:
    """The commands of one shell line: `python X.py ...`, `python -m lrsdetr...`, `lrsdetr ...`, `bash benchmarks/gpu.sh
    ...` (environment assignments, wrappers such as `nice -n 10` and redirections dropped; `a && b`, pipes split;
    nothing after a `cd`, which runs in another folder)."""
    found = []
    for segment in SHELL_SPLIT.split(line):
        try:
            words = shlex.split(segment, comments=True)
        except ValueError:
            continue
        if words[:1] == ["cd"]:  # what follows runs in another folder (another repository): not ours to check
            break
        while words and ("=" in words[0] and not words[0].startswith("-") or words[0] in WRAPPERS):
            words = words[1 + WRAPPERS.get(words[0], 0):] if words[0] in WRAPPERS else words[1:]
        words = [word for word in words if not re.match(r"^\d?>>?|^2>&1$", word)]
        program = Path(words[0]).name if words else ""
        if program in ("python", "python3") and len(words) > 1 and (words[1].endswith(".py") or words[1] == "-m" and words[2:3] and words[2].startswith("lrsdetr")):
            found.append(words[1:])
        elif words[:1] == ["lrsdetr"] and len(words) > 1 or (program == "bash" and words[1:2] == ["benchmarks/gpu.sh"]):
            found.append(words)
    return found


def parse_problem(words: list[str]) -> str:
    """'' if the command's own parser takes `words`, else its one-line error. Nothing runs: every command's work is
    replaced for the check, so only the parsing (the real one, with its older spellings) happens."""
    if words[0] == "bash":  # gpu.sh passes its arguments to benchmarks/gpu.py
        words = ["benchmarks/gpu.py", *words[2:]]
    if words[0].endswith(".py") and not (REPO / words[0]).is_file():
        return f"{words[0]}: no such script in the repository"
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        patch.setattr(Command, "run_with", lambda self, params: 0)
        try:
            if words[0] == "lrsdetr":
                status = commands.main(words[1:])
            elif words[0] == "-m":
                patch.setattr(sys, "argv", [words[1], *words[2:]])
                module = __import__(words[1] + (".__main__" if words[1] in ("lrsdetr", "lrsdetr.compat") else ""), fromlist=["main"])
                status = module.main(words[2:])
            else:
                patch.setattr(sys, "argv", words)
                runpy.run_path(str(REPO / words[0]), run_name="__main__")
                status = 0
        except SystemExit as done:
            status = done.code
    return "" if status in (0, None) else (err.getvalue().strip().splitlines() or [f"exit status {status}"])[-1]


def command_problems(path: Path) -> list[str]:
    """'page:line: command: error' for every command shown in `path` that its parser refuses."""
    problems = []
    for number, line in shown_lines(path.read_text(encoding="utf-8")):
        for words in invocations(line):
            problem = parse_problem(words)
            if problem:
                problems.append(f"{path.name}:{number}: {shlex.join(words)}: {problem}")
    return problems


@pytest.mark.parametrize("page", documentation(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_command_shown_is_taken_by_its_parser(page):
    problems = command_problems(page)
    assert not problems, "\n".join(problems)


def test_a_flag_that_does_not_exist_is_named_with_page_and_line(tmp_path):
    page = tmp_path / "guide.md"
    page.write_text("Train:\n```bash\npython train.py --data d.yaml \\\n    --epoch 5   # a typo\n```\nor `lrsdetr val --weights x.pt "
                    "--splt test`, `lrsdetr bench accuracy --seeds 0 lr0=1e-3` and `python nowhere.py`.\n")
    assert command_problems(page) == [
        "guide.md:3: train.py --data d.yaml --epoch 5: error: unrecognized arguments: --epoch 5 (see --help)",
        "guide.md:6: lrsdetr val --weights x.pt --splt test: lrsdetr val: error: unrecognized arguments: --splt test (see --help)",
        "guide.md:6: lrsdetr bench accuracy --seeds 0 lr0=1e-3: lrsdetr bench accuracy: error: 'lr0=1e-3': 'lr0' is not one of "
        "this script's flags (see --help)",
        "guide.md:6: nowhere.py: nowhere.py: no such script in the repository",
    ]


def test_the_commands_page_shows_what_lrsdetr_help_prints():
    """docs/commands.md quotes `lrsdetr --help`: a command added, renamed or re-described shows there too."""
    page = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    quoted = re.search(r"\$ lrsdetr --help\n(.*?)\n```", page, re.DOTALL)
    assert quoted and quoted.group(1) == commands.usage(), "docs/commands.md: update the `lrsdetr --help` block"


def link_problems(path: Path) -> list[str]:
    """'page:line: target' for every relative link or image of `path` that names no file."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for groups in LINK.findall(line):
            target = next(group for group in groups if group)
            if re.match(r"^[a-z]+:|^#", target):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                problems.append(f"{path.relative_to(REPO)}:{number}: {target}")
    return problems


def test_every_relative_link_and_image_resolves():
    problems = [problem for page in documentation() for problem in link_problems(page)]
    assert not problems, "links to nothing:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The documentation site, built as `mkdocs build --strict` builds it (a warning fails it)."""
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder


def test_the_site_needs_nothing_from_the_network(site):
    """No web font, analytics, CDN script or remote image: every src and stylesheet the pages load is local."""
    remote = re.compile(r"""(?:src|href)=["'](https?:)?//[^"']+["'][^>]*""")
    loads = []
    for page in site.rglob("*.html"):
        for tag in re.findall(r"<(?:script|img|link|iframe)[^>]*>", page.read_text(encoding="utf-8")):
            if remote.search(tag) and not re.search(r"""rel=["']?(canonical|alternate)""", tag):
                loads.append(f"{page.relative_to(site)}: {tag[:120]}")
    assert not loads, "\n".join(loads[:10])


@contextlib.contextmanager
def served(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("LRSDETR_REQUIRE_BROWSER"),
                    reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it and requires it)")
def test_every_page_opens_in_headless_chromium_with_its_images(site):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "no chromium on PATH, and LRSDETR_REQUIRE_BROWSER is set (.ci/run installs it with apt-get)"
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("index.html"))
    problems = []
    with served(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.on("console", lambda message: problems.append(f"{tab.url}: console {message.type}: {message.text}")
               if message.type == "error" else None)
        tab.on("pageerror", lambda error: problems.append(f"{tab.url}: {error}"))
        tab.on("requestfailed", lambda request: problems.append(f"{tab.url}: could not load {request.url} ({request.failure})"))
        for page in pages:
            response = tab.goto(f"{url}/{page}", wait_until="networkidle")  # every request done before the next page
            if response is None or not response.ok:
                problems.append(f"{page}: HTTP {response.status if response else 'no response'}")
            broken = tab.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
            problems += [f"{page}: image not shown: {src}" for src in broken]
            if page == "index.html":
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                tab.screenshot(path=str(ARTIFACTS / "docs-home.png"), full_page=True)
        browser.close()
    assert len(pages) > 10, pages
    assert not problems, "\n".join(problems[:20])
    assert (ARTIFACTS / "docs-home.png").stat().st_size > 10_000
