"""The report as its reader sees it: pages opened in headless Chromium (Debian's ``chromium``, driven by
Playwright without ``playwright install``) and printed to PDF.

A run of two notebooks of the sample client (every page goes through the same exporter) with ``pdf=True``:
the index and every page it links load with no script error and no network request, show no code, every
link and anchor resolves, figures are embedded; one screenshot per page is saved for review (the folder is
printed); the PDF has the index first and one or more pages per report page. Chromium missing is a failure
that says how to install it, unless ``PORTFOLIO_KIT_SKIP_BROWSER=1`` is set explicitly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from portfolio_kit.runner import suite as runner
from portfolio_kit.report.browser import (CHROMIUM_ENV, ChromiumNotFound, find_chromium, playwright_launch_options,
                                          print_pdf, print_report_pdf)
from portfolio_kit.runner.cli import main
from portfolio_kit.data.config import load_config
from .conftest import SAMPLE_CONFIG as SAMPLE


NOTEBOOKS = ["data_overview", "abc_pareto"]
SKIP_ENV = "PORTFOLIO_KIT_SKIP_BROWSER"
A4 = (595.28, 841.89)  # points

needs_browser = pytest.mark.skipif(os.environ.get(SKIP_ENV) == "1",
                                   reason=f"{SKIP_ENV}=1: the browser tests were switched off explicitly")

#: What a code cell leaves in nbconvert's lab (``jp-*``) and classic (``input_*``) pages.
CODE_SELECTOR = (".jp-CodeCell .jp-Cell-inputWrapper, .jp-CodeCell .jp-InputArea, .jp-InputPrompt, "
                 ".jp-CodeMirrorEditor, .input_area, .input_prompt, div.input")

INSPECT = """selector => ({
  code: document.querySelectorAll(selector).length,
  cells: document.querySelectorAll('.jp-CodeCell').length,
  text: document.body.innerText,
  images: [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 22),
                                          loaded: i.complete && i.naturalWidth > 0})),
  // an in-page link finds its target as the browser does: by the raw fragment, then decoded
  anchors: [...document.querySelectorAll('a[href^="#"]')].map(a => a.hash.slice(1))
             .filter(id => id && !document.getElementById(id) && !document.getElementById(decodeURIComponent(id))),
  links: [...document.querySelectorAll('a[href]')].filter(a => !a.getAttribute('href').startsWith('#'))
             .map(a => a.href),
})"""


def _path(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", f"link {url} leaves the run folder"
    return Path(unquote(parsed.path))


# --- without a browser ---------------------------------------------------------------------------------------

def test_missing_chromium_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    with pytest.raises(ChromiumNotFound, match=r"apt-get install chromium"):
        find_chromium()
    reports = tmp_path / "reports"
    with pytest.raises(ChromiumNotFound):  # before any notebook runs: no run folder at all
        runner.run_suite(load_config(SAMPLE), only=["data_overview"], reports=reports, pdf=True)
    assert not reports.exists()
    assert main(["run", str(SAMPLE), "--only", "data_overview", "--reports", str(reports), "--pdf"]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
    (tmp_path / "chrome").write_text("not a program")
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "chrome"))
    with pytest.raises(ChromiumNotFound, match=rf"{CHROMIUM_ENV}=.*chrome is not an executable file"):
        find_chromium()


def test_cli_pdf_flag_reaches_the_runner(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_run_suite(cfg, **kwargs):
        seen.update(kwargs)
        return runner.RunResult(tmp_path)

    monkeypatch.setattr("portfolio_kit.runner.cli.run_suite", fake_run_suite)
    assert main(["run", str(SAMPLE), "--quiet", "--pdf"]) == 0 and seen["pdf"] is True
    assert main(["run", str(SAMPLE), "--quiet"]) == 0 and seen["pdf"] is False
    assert capsys.readouterr().out.strip().splitlines() == [str(tmp_path / "index.html")] * 2


def test_a_failed_print_fails_the_run_and_keeps_it(client, suite, tmp_path, monkeypatch):  # noqa: F811
    def broken_printer(pages, pdf_path, **kwargs):
        raise RuntimeError("Chromium did not print index.html (exit code 1)")

    monkeypatch.setattr(runner, "find_chromium", lambda: Path("/opt/chromium"))
    monkeypatch.setattr(runner, "chromium_version", lambda executable: "Chromium 1.0")
    monkeypatch.setattr(runner, "print_report_pdf", broken_printer)
    with pytest.raises(runner.RunFailed, match="the PDF could not be printed: Chromium did not print index.html"):
        runner.run_suite(load_config(client), only=["names"], reports=tmp_path / "r", notebooks_dir=suite, pdf=True)
    (failed,) = (tmp_path / "r" / "acme" / "2026-03-31").iterdir()
    manifest = json.loads((failed / "manifest.json").read_text())
    assert failed.name.endswith(".failed") and manifest["status"] == "failed" and manifest["pdf"] is None
    assert manifest["notebooks"][0]["status"] == "success" and (failed / "index.html").is_file()


def _executed_notebook(path: Path) -> None:
    """A notebook as papermill leaves it: code with a figure output and an HTML table, and a heading."""
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    cells = [new_markdown_cell("# Heading\n\nSome narrative."),
             new_code_cell("fig = draw_the_revenue_curve(table)", execution_count=1,
                           outputs=[new_output("display_data", {"image/png": png, "text/plain": "<Figure>"})]),
             new_code_cell("table.style.format(precision=2)", execution_count=2,
                           outputs=[new_output("execute_result", {"text/html": "<table><tr><td>1</td></tr></table>",
                                                                  "text/plain": "1"}, execution_count=2)])]
    nbformat.write(new_notebook(cells=cells), path)


def test_pages_load_nothing_from_the_network_and_keep_figures_embedded(tmp_path):
    _executed_notebook(tmp_path / "nb.ipynb")
    runner._export_html(tmp_path / "nb.ipynb", tmp_path / "nb.html", "Example")
    page = (tmp_path / "nb.html").read_text()
    assert "<script" not in page  # nbconvert's lab page loads require.js and MathJax from a CDN by default
    assert "cdnjs" not in page and "unpkg" not in page
    assert 'src="data:image/png;base64,' in page
    assert "draw_the_revenue_curve" not in page and "<td>1</td>" in page and "@page { size: A4; }" in page


# --- Chromium: printing ---------------------------------------------------------------------------------------

@needs_browser
def test_print_pdf_follows_css_page_breaks_and_size(tmp_path):
    html = tmp_path / "three.html"
    html.write_text("<!DOCTYPE html><html><head><style>@page { size: A4; } .sheet { break-after: page; }</style>"
                    "</head><body><div class=sheet>one</div><div class=sheet>two</div><div>three</div></body></html>")
    pdf = PdfReader(print_pdf(html, tmp_path / "three.pdf"))
    assert [p.extract_text().strip() for p in pdf.pages] == ["one", "two", "three"]
    assert [float(x) for x in pdf.pages[0].mediabox[2:]] == pytest.approx(A4, abs=1)


def _links(pdf: PdfReader) -> list[tuple[int, str | int]]:
    """Every link of the PDF: (page, URI) or (page, page number it jumps to)."""
    out = []
    for number, page in enumerate(pdf.pages):
        for link in (a.get_object() for a in page.get("/Annots") or []):
            dest = link.get("/Dest")
            out.append((number, pdf.get_page_number(dest[0].get_object()) if dest else str(link["/A"]["/URI"])))
    return out


@needs_browser
def test_print_report_pdf_concatenates_pages_with_bookmarks_and_inner_links(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.csv").write_text("a\n1\n")
    (tmp_path / "a.html").write_text('<p>first page: <a href="b.html">detail</a> <a href="tables/t.csv">table</a> '
                                     '<a href="../elsewhere.html">outside</a> <a href="https://example.org/">web</a>')
    (tmp_path / "b.html").write_text('<p style="break-after: page">second</p><p>third</p>')
    counts = print_report_pdf([tmp_path / "a.html", tmp_path / "b.html"], tmp_path / "book.pdf",
                              titles=["Contents", "Detail"], title="Book")
    pdf = PdfReader(tmp_path / "book.pdf")
    assert counts == [1, 2] and len(pdf.pages) == 3
    assert [(o.title, pdf.get_destination_page_number(o)) for o in pdf.outline] == [("Contents", 0), ("Detail", 1)]
    assert pdf.metadata.title == "Book" and "third" in pdf.pages[2].extract_text()
    # b.html jumps to its page, the table stays a relative link, the outside file (a machine path) is dropped
    assert set(_links(pdf)) == {(0, 1), (0, "tables/t.csv"), (0, "https://example.org/")}
    with pytest.raises(FileNotFoundError, match="missing.html"):
        print_pdf(tmp_path / "missing.html", tmp_path / "x.pdf")


# --- Chromium: the sample's report -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the browser tests were switched off explicitly")
    find_chromium()  # fails (not skips) with the install command when Chromium is missing
    return runner.run_suite(load_config(SAMPLE), only=NOTEBOOKS, reports=tmp_path_factory.mktemp("reports"),
                            pdf=True).run_dir


@pytest.fixture(scope="module")
def manifest(run) -> dict:
    return json.loads((run / "manifest.json").read_text())


@pytest.fixture(scope="module")
def browser(run):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # a dev dependency: never skipped silently
        raise RuntimeError("the browser tests need Playwright: pip install -r requirements.lock") from exc
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(**playwright_launch_options())
        yield chromium
        chromium.close()


def _visit(browser, path: Path, screenshot: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, external = [], []
    page.on("console", lambda m: m.type == "error" and errors.append(f"console error: {m.text}"))
    page.on("pageerror", lambda exc: errors.append(f"uncaught exception: {exc}"))
    page.on("request", lambda r: r.url.startswith(("file:", "data:")) or external.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    page.screenshot(path=screenshot, full_page=True)
    found = page.evaluate(INSPECT, CODE_SELECTOR)
    page.close()
    return found | {"errors": errors, "external": external}


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def pages(run, browser, screenshots) -> dict[str, dict]:
    """Every page of the report as the browser saw it: the index, then each page the index links to."""
    seen = {"index.html": _visit(browser, run / "index.html", screenshots / "index.png")}
    for url in seen["index.html"]["links"]:
        path = _path(url)
        if path.suffix == ".html" and path.name not in seen:
            seen[path.name] = _visit(browser, path, screenshots / f"{path.stem}.png")
    return seen


def test_index_links_every_notebook_page_and_every_link_resolves(run, manifest, pages):
    links = [_path(url) for url in pages["index.html"]["links"]]
    assert all(p.exists() and p.is_relative_to(run) for p in links), [p for p in links if not p.exists()]
    assert {p.name for p in links} >= {"tables", f"sample-client_{manifest['as_of']}.xlsx"}
    assert list(pages) == ["index.html"] + [nb["html"] for nb in manifest["notebooks"]]
    assert [nb["name"] for nb in manifest["notebooks"]] == NOTEBOOKS


def test_pages_load_without_script_errors_or_network_requests(pages):
    for name, page in pages.items():
        assert page["errors"] == [], name
        assert page["external"] == [], name
        assert page["anchors"] == [], f"{name}: in-page links without a target"


def test_no_code_is_visible(run, pages, manifest):
    for nb in manifest["notebooks"]:
        page = pages[nb["html"]]
        assert page["code"] == 0 and page["cells"] > 0, nb["html"]  # outputs are there, their code is not
        executed = nbformat.read(run / nb["notebook"], as_version=4)
        lines = {line.strip() for cell in executed.cells if cell.cell_type == "code"
                 for line in cell.source.splitlines() if "(" in line and len(line.strip()) >= 25}
        assert lines and not [line for line in lines if line in page["text"]], nb["html"]


def test_the_code_detector_sees_code_when_there_is_some(browser, tmp_path):
    """The selector above would pass vacuously if it missed how nbconvert renders code: show it code."""
    from nbconvert import HTMLExporter

    _executed_notebook(tmp_path / "nb.ipynb")
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(tmp_path / "nb.ipynb", 4))
    (tmp_path / "with_code.html").write_text(body)
    page = browser.new_page()
    page.goto((tmp_path / "with_code.html").as_uri(), wait_until="domcontentloaded")
    assert page.evaluate(INSPECT, CODE_SELECTOR)["code"] > 0
    page.close()


def test_wide_tables_fit_the_printed_a4_page(browser, tmp_path):
    """A4 portrait less nbconvert's 0.5 in margins is 210 - 25.4 = 184.6 mm = 697.7 CSS px (96 px per inch)."""
    from nbconvert import HTMLExporter

    table = "<table><thead><tr>" + "".join(f"<th>share_amount_late_{i}</th>" for i in range(8)) + "</tr></thead>"
    table += "<tbody>" + "<tr>" + "<td>1234567.89</td>" * 8 + "</tr>" * 3 + "</tbody></table>"
    nb = new_notebook(cells=[new_code_cell("t", execution_count=1, outputs=[
        new_output("execute_result", {"text/html": table, "text/plain": "t"}, execution_count=1)])])
    nbformat.write(nb, tmp_path / "wide.ipynb")
    runner._export_html(tmp_path / "wide.ipynb", tmp_path / "report.html", "Wide")
    (tmp_path / "plain.html").write_text(HTMLExporter(template_name="lab").from_notebook_node(nb)[0])
    page = browser.new_page(viewport={"width": 697, "height": 1000})
    page.emulate_media(media="print")
    right = {}
    for name in ("report", "plain"):
        page.goto((tmp_path / f"{name}.html").as_uri(), wait_until="domcontentloaded")
        right[name] = page.evaluate("() => document.querySelector('table').getBoundingClientRect().right")
    page.close()
    assert right["report"] <= 697 < right["plain"], right  # nbconvert's own page would be clipped


def test_figures_are_embedded_and_render(pages):
    images = [img for name, page in pages.items() if name != "index.html" for img in page["images"]]
    assert images, "the notebooks show figures"
    assert all(img["loaded"] and img["src"].startswith("data:image/") for img in images), images


def test_screenshots_are_saved_for_review(pages, screenshots, capsys):
    shots = sorted(screenshots.glob("*.png"))
    assert [p.stem for p in shots] == sorted(Path(name).stem for name in pages)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000 for p in shots)
    with capsys.disabled():
        print(f"\nscreenshots of the report for review: {screenshots}")


def test_pdf_has_the_index_first_then_each_page_in_order(run, manifest):
    entry = manifest["pdf"]
    assert entry["file"] == "sample-client_2026-10-31.pdf" and manifest["status"] == "success"
    assert "Chromium" in manifest["versions"]["chromium"]
    pdf = PdfReader(run / entry["file"])
    notebooks = runner._reading_order(manifest["notebooks"])  # the summary first, then the others in run order
    titles = ["Contents"] + [nb["title"] for nb in notebooks]
    starts = [pdf.get_destination_page_number(o) for o in pdf.outline]
    assert [o.title for o in pdf.outline] == titles
    assert starts[0] == 0 and all(b > a for a, b in zip(starts, starts[1:])) and starts[-1] < len(pdf.pages)
    assert sum(entry["pages"].values()) == len(pdf.pages)
    assert "customerportfolioasof2026-10-31" in "".join(pdf.pages[0].extract_text().split())
    for nb, start in zip(notebooks, starts[1:]):
        heading = runner._title(run / nb["notebook"])  # the first heading, displayed from the text catalogue
        assert " ".join(heading.split()[:4]) in " ".join(pdf.pages[start].extract_text().split()), nb["name"]
    assert all([float(x) for x in p.mediabox[2:]] == pytest.approx(A4, abs=1) for p in pdf.pages)
    links = _links(pdf)  # the contents page jumps to each notebook page; no path of this machine is left
    assert [target for page, target in links if isinstance(target, int)] == starts[1:]
    assert not [target for _, target in links if str(target).startswith("file:")]
    assert not list(run.parent.glob(".*")), "the PDF is made inside the run before it is moved into place"
