"""The hall's own pages: the kiosk, the counter client and the citizen's ticket page.

Plain HTML and JavaScript that use the public API; no build step. Each page is
read once at start-up and served from memory.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

PAGES = Path(__file__).with_name("pages")
FILES = {
    "kiosk": ("kiosk.html", "text/html"),
    "counter": ("counter.html", "text/html"),
    "ticket": ("ticket.html", "text/html"),
    "admin": ("admin.html", "text/html"),
    "supervisor": ("supervisor.html", "text/html"),
    "book": ("book.html", "text/html"),
}
# The pages' scripts, styles and images: every such file of pages/, read once at start-up.
STATIC_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,80}$")


def static_files() -> dict[str, tuple[bytes, str]]:
    """``{name: (body, content type)}`` of the static files beside the pages."""
    return {
        path.name: (path.read_bytes(), STATIC_TYPES[path.suffix])
        for path in sorted(PAGES.iterdir())
        if path.suffix in STATIC_TYPES and STATIC_NAME.match(path.name)
    }


def add_routes(app: web.Application) -> None:
    """Register ``/kiosk/{branch_id}``, ``/counter``, ``/t/{ticket_id}`` and their static files.

    Styles and scripts are files of their own (never inline), so the pages pass
    the strict Content-Security-Policy every response carries.
    """

    def serve(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        filename, content_type = FILES[name]
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
    app.router.add_get("/admin", serve("admin"))
    app.router.add_get("/supervisor/{branch_id}", serve("supervisor"))
    files = static_files()

    async def static(request: web.Request) -> web.Response:
        found = files.get(request.match_info["filename"])
        if found is None:
            raise web.HTTPNotFound(text=f"no static file {request.match_info['filename']!r}")
        body, content_type = found
        headers = {"Cache-Control": "no-cache"}
        return web.Response(body=body, content_type=content_type, headers=headers)

    app.router.add_get("/static/{filename}", static)
