"""The hall's own pages: the kiosk, the counter client and the citizen's ticket page.

Plain HTML and JavaScript that use the public API; no build step. Each page is
read once at start-up and served from memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

PAGES = Path(__file__).with_name("pages")
_FILES = {
    "kiosk": ("kiosk.html", "text/html"),
    "counter": ("counter.html", "text/html"),
    "ticket": ("ticket.html", "text/html"),
    "book": ("book.html", "text/html"),
    "book.css": ("book.css", "text/css"),
    "book.js": ("book.js", "text/javascript"),
    "kiosk-checkin.js": ("kiosk-checkin.js", "text/javascript"),
    "common.css": ("common.css", "text/css"),
    **{f"{page}.css": (f"{page}.css", "text/css") for page in ("kiosk", "counter", "ticket")},
    **{f"{page}.js": (f"{page}.js", "text/javascript") for page in ("kiosk", "counter", "ticket")},
}


def add_routes(app: web.Application) -> None:
    """Register ``/kiosk/{branch_id}``, ``/counter``, ``/t/{ticket_id}`` and their static files.

    Styles and scripts are files of their own (never inline), so the pages pass
    the strict Content-Security-Policy every response carries.
    """

    def serve(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        filename, content_type = _FILES[name]
        body = (PAGES / filename).read_bytes()

        async def handler(request: web.Request) -> web.Response:
            return web.Response(
                body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"}
            )

        return handler

    app.router.add_get("/kiosk/{branch_id}", serve("kiosk"))
    app.router.add_get("/counter", serve("counter"))
    app.router.add_get("/t/{ticket_id}", serve("ticket"))
    app.router.add_get("/book/{branch_id}", serve("book"))
    for name in _FILES:
        if "." in name:
            app.router.add_get(f"/static/{name}", serve(name))
