"""Headless Chromium for the report: print its HTML pages to one PDF (and launch options for the browser test).

The browser is Debian's ``chromium`` package (``apt-get install chromium``, or ``make browser``), not a
browser build downloaded at run time (nbconvert's ``webpdf`` and ``playwright install`` do that, and fail
offline). Set ``PORTFOLIO_KIT_CHROMIUM`` to a Chromium or Chrome executable to use another one.

Every launch gets a fresh, throw-away profile and the flags a headless server needs: no sandbox (root in a
container), no GPU, and no background traffic (component updates, sync, QUIC, first-run pages).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import unquote, urlparse

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, NameObject, TextStringObject

__all__ = ["ChromiumNotFound", "INSTALL_HINT", "find_chromium", "chromium_version", "chromium_args",
           "playwright_launch_options", "print_pdf", "print_report_pdf"]

log = logging.getLogger(__name__)

CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_ENV = "PORTFOLIO_KIT_CHROMIUM"
INSTALL_HINT = "install Debian's chromium with `apt-get install chromium` (as root; `make browser` does it)"
HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


class ChromiumNotFound(FileNotFoundError):
    """No Chromium executable: the message says how to install one."""


def find_chromium() -> Path:
    """The Chromium executable: ``$PORTFOLIO_KIT_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on PATH.

    Raises
    ------
    ChromiumNotFound
        With the install command, when there is none (or the variable names no executable file).
    """
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ChromiumNotFound(f"{CHROMIUM_ENV}={override} is not an executable file; unset it or "
                               f"{INSTALL_HINT}")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ChromiumNotFound(f"headless Chromium is needed for the PDF and the report's browser test, and neither "
                           f"{' nor '.join(CHROMIUM_NAMES)} is on PATH: {INSTALL_HINT}")


def chromium_version(executable: Path | None = None) -> str:
    """``chromium --version``, e.g. ``"Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)"``."""
    out = subprocess.run([str(executable or find_chromium()), "--version"], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.strip()


def chromium_args(user_data_dir: str | Path) -> list[str]:
    """The flags of every headless launch, with ``user_data_dir`` as the (fresh) profile."""
    return [*HEADLESS_FLAGS, f"--user-data-dir={user_data_dir}"]


def playwright_launch_options() -> dict:
    """Keyword arguments for Playwright's ``chromium.launch`` that drive this Chromium (Playwright adds
    ``--headless`` and its own fresh profile), so ``playwright install`` is never needed."""
    return {"executable_path": str(find_chromium()), "headless": True,
            "args": [f for f in HEADLESS_FLAGS if f != "--headless"]}


@contextmanager
def fresh_profile() -> Iterator[Path]:
    """A throw-away Chromium profile folder, deleted on exit."""
    with tempfile.TemporaryDirectory(prefix="portfolio-kit-chromium-") as folder:
        yield Path(folder)


def _print(executable: Path, profile: Path, html_path: Path, pdf_path: Path, timeout: float) -> None:
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    if not html_path.is_file():
        raise FileNotFoundError(f"{html_path}: no such HTML page to print")
    pdf_path.unlink(missing_ok=True)
    command = [str(executable), *chromium_args(profile), "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
               html_path.as_uri()]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Chromium did not print {html_path.name} within {timeout:.0f} s") from None
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"Chromium did not print {html_path.name} (exit code {done.returncode}): {tail}")


def print_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 120) -> Path:
    """Print one HTML page to PDF with headless Chromium, without header and footer.

    The paper size is the page's CSS ``@page { size: ... }`` (the report's pages say A4), else Letter.

    Parameters
    ----------
    html_path : path of the page; it is opened as a ``file://`` URL, so relative links and images resolve.
    pdf_path : the PDF to write (replaced if it exists).
    timeout : seconds before giving up on the browser.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    ChromiumNotFound
        When Chromium is missing (see :func:`find_chromium`).
    RuntimeError
        When Chromium fails or times out, with the end of its error output.

    Examples
    --------
    >>> print_pdf("reports/acme/2026-10-31/<run_id>/index.html", "index.pdf")  # doctest: +SKIP
    """
    executable = find_chromium()
    with fresh_profile() as profile:
        _print(executable, profile, Path(html_path), Path(pdf_path), timeout)
    return Path(pdf_path)


def print_report_pdf(pages: Sequence[str | Path], pdf_path: str | Path, *, titles: Sequence[str] | None = None,
                     title: str | None = None, timeout: float = 120) -> list[int]:
    """Print HTML pages in order into one PDF, each page starting on a new sheet, with one bookmark per page.

    Each page is printed on its own by :func:`print_pdf` (so its styles, anchors and page breaks stay its
    own), then the PDFs are concatenated with pypdf. Links between the printed pages jump inside the PDF;
    links to other files in the PDF's folder (e.g. ``tables/``) become relative to it; links to local files
    elsewhere are dropped, so no path of the machine that printed it is left in the PDF.

    Parameters
    ----------
    pages : the HTML pages, in reading order (e.g. ``index.html`` first, then every notebook page).
    pdf_path : the PDF to write.
    titles : the bookmark of each page (default: the file names without extension).
    title : the document title in the PDF's metadata.
    timeout : seconds allowed to print each page.

    Returns
    -------
    list of int
        The number of PDF pages of each HTML page, in order.

    Examples
    --------
    >>> run = Path("reports/acme/2026-10-31/<run_id>")  # doctest: +SKIP
    >>> print_report_pdf([run / "index.html", run / "01_segmentation.html"], run / "acme.pdf",
    ...                  titles=["Contents", "Segmentation"])  # doctest: +SKIP
    [1, 6]
    """
    if not pages:
        raise ValueError("print_report_pdf: no HTML pages to print")
    titles = list(titles) if titles is not None else [Path(p).stem for p in pages]
    if len(titles) != len(pages):
        raise ValueError(f"print_report_pdf: {len(pages)} pages but {len(titles)} titles")
    executable = find_chromium()
    writer, counts = PdfWriter(), []
    with fresh_profile() as profile, tempfile.TemporaryDirectory(prefix="portfolio-kit-pdf-") as parts:
        for i, (page, bookmark) in enumerate(zip(pages, titles)):
            part = Path(parts) / f"{i:03d}.pdf"
            _print(executable, profile, Path(page), part, timeout)
            first = len(writer.pages)
            writer.append(PdfReader(part), import_outline=False)
            counts.append(len(writer.pages) - first)
            writer.add_outline_item(title=bookmark, page_number=first)
            log.info("printed %s: %d page(s)", Path(page).name, counts[-1])
        _relink(writer, pages, counts, Path(pdf_path).resolve().parent)
        if title:
            writer.add_metadata({"/Title": title})
        with open(pdf_path, "wb") as fh:
            writer.write(fh)
    return counts


def _relink(writer: PdfWriter, pages: Sequence[str | Path], counts: Sequence[int], folder: Path) -> None:
    """Rewrite the ``file:`` links Chromium printed (absolute paths of where the pages were)."""
    starts = dict(zip((Path(p).resolve() for p in pages), (sum(counts[:i]) for i in range(len(counts)))))
    for page in writer.pages:
        if "/Annots" not in page:
            continue
        kept = ArrayObject()
        for ref in page["/Annots"]:
            link = ref.get_object()
            uri = link.get("/A", {}).get("/URI", "")
            if not str(uri).startswith("file:"):
                kept.append(ref)
                continue
            target = Path(unquote(urlparse(str(uri)).path))
            if target in starts:
                del link["/A"]
                link[NameObject("/Dest")] = ArrayObject([writer.pages[starts[target]].indirect_reference,
                                                         NameObject("/Fit")])
            elif target.is_relative_to(folder):
                link["/A"][NameObject("/URI")] = TextStringObject(target.relative_to(folder).as_posix()
                                                                  + ("/" if str(uri).endswith("/") else ""))
            else:
                continue
            kept.append(ref)
        page[NameObject("/Annots")] = kept
