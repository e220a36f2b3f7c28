"""The console's routes: `/` (the single page), `/console/assets/...`, `/console/kinds/<kind>/...`
and `/console/manifest.json`.

Plain Starlette routes, not API operations: static files are in no OpenAPI schema, and need no
credentials (the page asks the API who is signed in). Each answer carries the console's
Content-Security-Policy: scripts, styles, images and connections from this origin only, no
inline script, no framing; the docs pages (Swagger UI's inline scripts) are not covered.
"""

from __future__ import annotations

import json
from functools import lru_cache

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from api import permissions
from api.console.files import INDEX, ConsoleFile, console_files
from api.limits import if_none_match

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: For URLs that name their build (`?v=<build>`): their bytes never change.
IMMUTABLE = "public, max-age=31536000, immutable"
#: For everything else (the page itself, modules imported without `?v=`): ask each time (ETag: 304).
REVALIDATE = "no-cache"


def role_constants() -> dict[str, list[str]]:
    """Every role tuple of `api.permissions` by name: the single source of who may do what,
    which the console's pages name (`roles: 'ALERT_ACTORS'`) rather than copy."""
    return {
        name: list(value)
        for name, value in vars(permissions).items()
        if name.isupper() and isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    }


@lru_cache(maxsize=1)
def manifest_json() -> bytes:
    """What the shell loads first: the build, the kinds' page modules, the generic pages and the roles."""
    files = console_files()
    versioned = f"?v={files.build}"
    pages = sorted(p for p in files.files if p.startswith("assets/pages/") and p.endswith(".js"))
    body = {
        "build": files.build,
        "kinds": [{"kind": kind, "module": f"/console/kinds/{kind}/pages.js{versioned}"} for kind in files.kinds],
        "pages": [f"/console/{p}{versioned}" for p in pages],
        "roles": role_constants(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _file_response(request: Request, file: ConsoleFile, cache_control: str) -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "ETag": file.etag}
    if file.compressible:
        headers["Vary"] = "Accept-Encoding"
    if if_none_match(request.headers.get("if-none-match"), file.etag):
        return Response(status_code=304, headers=headers)
    body = file.body
    if "gzip" in request.headers.get("accept-encoding", "") and (gzipped := file.gzipped) is not None:
        body = gzipped
        headers["Content-Encoding"] = "gzip"  # so the app's GZip middleware leaves it alone
    return Response(body, media_type=file.media_type, headers=headers)


def _serve(request: Request, url_path: str) -> Response:
    files = console_files()
    file = files.get(url_path)
    if file is None:
        raise HTTPException(404, "no such console file")
    versioned = request.query_params.get("v") == files.build
    return _file_response(request, file, IMMUTABLE if versioned else REVALIDATE)


async def index(request: Request) -> Response:
    return _serve(request, f"assets/{INDEX}")


async def asset(request: Request) -> Response:
    return _serve(request, f"assets/{request.path_params['path']}")


async def kind_file(request: Request) -> Response:
    return _serve(request, f"kinds/{request.path_params['kind']}/{request.path_params['path']}")


async def manifest(request: Request) -> Response:
    body = manifest_json()
    headers = {**SECURITY_HEADERS, "Cache-Control": REVALIDATE}
    return Response(body, media_type="application/json", headers=headers)


def mount_console(app: FastAPI) -> None:
    """Serve the console from `app`; the files are read once per process, at the first call."""
    console_files()
    methods = ["GET", "HEAD"]
    app.add_route("/", index, methods=methods, name="console_index", include_in_schema=False)
    app.add_route("/console/manifest.json", manifest, methods=methods, name="console_manifest", include_in_schema=False)
    app.add_route("/console/assets/{path:path}", asset, methods=methods, name="console_asset", include_in_schema=False)
    app.add_route(
        "/console/kinds/{kind}/{path:path}", kind_file, methods=methods, name="console_kind_file", include_in_schema=False
    )
