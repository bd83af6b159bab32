"""PDF by a real engine: headless Chromium prints an HTML document (`printed.html_page`) to PDF.

Each print gets a fresh, empty profile folder and the flags that keep Chromium off the network
(no sync, no component updates, no background requests); the page itself carries everything it
draws (plotly.js inline, its charts drawn by scripts that run before the load event, when the
page is printed).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pbxlens import PbxlensError
from pbxlens.config import get_settings

TIMEOUT_S = 120
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--no-pdf-header-footer")


class PdfError(PbxlensError):
    """Chromium is missing or could not print the page."""


def print_pdf(html: str, *, chromium: str | None = None, timeout_s: float = TIMEOUT_S) -> bytes:
    """The PDF bytes of the HTML document `html`."""
    exe = chromium or get_settings().chromium
    if not Path(exe).exists():
        raise PdfError(f"Chromium not found at {exe} (setting chromium): PDF needs it")
    with tempfile.TemporaryDirectory(prefix="pbxlens-pdf-") as tmp:
        folder = Path(tmp)
        page, out, profile = folder / "page.html", folder / "page.pdf", folder / "profile"
        profile.mkdir()
        page.write_text(html, encoding="utf-8")
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print the page within {timeout_s:.0f} s") from None
        if not out.exists() or out.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfError(f"Chromium printed no PDF (exit {done.returncode}): "
                           f"{' / '.join(tail) or 'no message'}")
        return out.read_bytes()
