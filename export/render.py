"""Static rendering: plotly figures to SVG, PNG and PDF in the system's Chromium, through kaleido.

The browser is found once (``BROWSER_PATH``, else ``chromium``, ``chromium-browser``, ``google-chrome``
on the PATH) and passed to kaleido explicitly, so nothing is ever downloaded (kaleido's ``get_chrome``
is never called, and MathJax, which kaleido would fetch from a CDN, is switched off; plotly.js comes
from the plotly package). One browser session serves every render of the process: a background thread
runs an asyncio loop holding a ``kaleido.Kaleido``; ``Renderer`` methods are thread-safe (the
dashboard's server threads share it) and the session closes at exit.

PDF: kaleido prints its PDF with 0.1 in margins and shrinks the figure to fit them, which would make
7 pt type 6.6 pt. So the PDF is printed here instead: the SVG is put in a page of its own, with no
margins and a paper size of exactly the figure's size, and printed by the same browser
(``Page.printToPDF``), which embeds the fonts as subsets.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import json
import os
import shutil
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from ayaall.errors import UserError

__all__ = ["BROWSER_NAMES", "Renderer", "find_browser", "get_renderer"]

BROWSER_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_NO_BROWSER = (
    "static figure export needs Chromium, and none was found: install it with 'apt-get install chromium' "
    "(Debian/Ubuntu) or set BROWSER_PATH to a Chromium or Chrome executable."
)
_TIMEOUT_S = 120.0


def find_browser() -> str:
    """The Chromium to render with: ``BROWSER_PATH`` if set, else the first of ``BROWSER_NAMES`` on the PATH.

    Raises ``UserError`` (one sentence saying how to install it) when there is none.
    """
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise UserError(f"BROWSER_PATH={explicit!r} is not an executable file; {_NO_BROWSER}")
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise UserError(_NO_BROWSER[0].upper() + _NO_BROWSER[1:])


class Renderer:
    """One headless Chromium (kaleido) in a background thread; render calls are thread-safe."""

    def __init__(self, browser: str) -> None:
        self.browser = browser
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ayaall-kaleido", daemon=True)
        self._thread.start()
        self._kaleido: Any = None
        self._pdf_tab: Any = None
        try:
            self._run(self._open())
        except BaseException:
            self.close()
            raise

    # -- lifecycle -----------------------------------------------------------------------------------
    async def _open(self) -> None:
        import kaleido  # imported here: loading it costs time the data exports need not pay

        self._kaleido = kaleido.Kaleido(path=self.browser, mathjax=False, n=1, timeout=_TIMEOUT_S)
        await self._kaleido.open()
        self._pdf_tab = await self._kaleido.create_tab("about:blank")
        self._pdf_lock = asyncio.Lock()

    async def _close(self) -> None:
        if self._kaleido is not None:
            await self._kaleido.close()
            self._kaleido = None

    def close(self) -> None:
        """Close the browser and stop the thread (idempotent)."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            with contextlib.suppress(Exception):  # closing at exit: nothing left to report to
                asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._loop.close()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=_TIMEOUT_S)

    # -- renders -------------------------------------------------------------------------------------
    def svg(self, fig: go.Figure) -> str:
        """The figure as SVG text, at its layout's width and height (CSS px)."""
        data = self._run(self._kaleido.calc_fig(fig, opts={"format": "svg"}))
        return bytes(data).decode("utf-8")

    def png(self, fig: go.Figure, scale: float) -> bytes:
        """The figure as PNG bytes, ``scale`` device pixels per CSS px."""
        return bytes(self._run(self._kaleido.calc_fig(fig, opts={"format": "png", "scale": scale})))

    def pdf(self, svg: str, width_px: float, height_px: float) -> bytes:
        """``svg`` printed to a one-page PDF of exactly ``width_px`` x ``height_px`` CSS px, no margins."""
        return bytes(self._run(self._print(svg, width_px, height_px)))

    async def _print(self, svg: str, width_px: float, height_px: float) -> bytes:
        html = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><style>"
            "@page{margin:0}html,body{margin:0;padding:0;background:#fff}svg{display:block}"
            "</style></head><body>" + svg + "</body></html>"
        )
        async with self._pdf_lock:
            tab = self._pdf_tab
            script = (
                f"document.open();document.write({json.dumps(html)});document.close();document.fonts.ready.then(()=>1)"
            )
            _check(await tab.send_command("Runtime.evaluate", params={"expression": script, "awaitPromise": True}))
            response = await tab.send_command(
                "Page.printToPDF",
                params={
                    "paperWidth": width_px / 96,
                    "paperHeight": height_px / 96,
                    "marginTop": 0,
                    "marginBottom": 0,
                    "marginLeft": 0,
                    "marginRight": 0,
                    "printBackground": True,
                    "preferCSSPageSize": False,
                    "pageRanges": "1",
                },
            )
            _check(response)
        return base64.b64decode(response["result"]["data"])


def _check(response: dict[str, Any]) -> None:
    if "error" in response:
        raise RuntimeError(f"Chromium refused a command: {response['error']}")


_RENDERER: Renderer | None = None
_LOCK = threading.Lock()


def get_renderer() -> Renderer:
    """The process's renderer, started on first use (finds the browser, or raises ``UserError``)."""
    global _RENDERER
    with _LOCK:
        if _RENDERER is None:
            _RENDERER = Renderer(find_browser())
            atexit.register(_shutdown)
        return _RENDERER


def _shutdown() -> None:
    global _RENDERER
    with _LOCK:
        if _RENDERER is not None:
            _RENDERER.close()
            _RENDERER = None
