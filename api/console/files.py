"""The console's files: what may be served, under which URL, as which type, and the build hash.

Only files indexed here are ever served: a URL path is looked up in a dictionary built from the
package's folders, never joined onto a filesystem path, so `..`, encoded slashes or absolute
paths cannot reach anything else. The index, the files' bytes and the build hash are read once
per process (`console_files`): the test suite builds hundreds of apps, and a deployment's files
change only with its package. The build hash names the assets' contents, so a browser may keep
a `?v=<build>` URL forever and a new release is fetched at once; `{{build}}` in the console's
HTML and JavaScript (not the vendored libraries) is replaced by it, so a module imports its
neighbours as `./shell/api.js?v={{build}}` and every URL of the shell is cached for good.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import kinds

STATIC = Path(__file__).parent / "static"
INDEX = "index.html"
#: Replaced by the build hash in the files of these types, except the vendored libraries.
BUILD_MARKER = "{{build}}"
#: Replaced, in the index, by a `modulepreload` link per module of the console (the shell imports
#: every page module at start, and they import their neighbours): the browser fetches them all
#: at once, with the shell, instead of one round of imports after another.
PRELOAD_MARKER = "{{preload}}"
#: Replaced, in the index, by a stylesheet link per kind's stylesheet, marked as each kind's pages
#: look for theirs before adding it (`link[data-kind-css="<kind>"]`) and as loaded (`data-loaded`):
#: no module runs before the head's stylesheets are in, so a page that draws at once (a map needs
#: its height) no longer waits for its stylesheet after its module.
STYLES_MARKER = "{{styles}}"
#: The shell's entry: index.html loads it with a script tag of its own.
ENTRY = "assets/app.js"
TEMPLATED = {".html", ".js"}
VENDOR = "assets/vendor/"

#: Served extensions and their types; anything else in the folders is not served. Licence files
#: (no extension) are served as text, so the vendored libraries' licences travel with them.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",
}
#: Worth compressing (PNG is compressed already); below `GZIP_MIN_BYTES` gzip costs more than it saves.
COMPRESSIBLE = {".js", ".css", ".html", ".json", ".svg", ".txt", ""}
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class ConsoleFile:
    body: bytes
    media_type: str
    compressible: bool
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        # Weak: the gzipped and the identity representation share it (the same content).
        object.__setattr__(self, "etag", f'W/"{hashlib.blake2b(self.body, digest_size=12).hexdigest()}"')

    @cached_property
    def gzipped(self) -> bytes | None:
        """The body gzipped, computed at its first request (then kept): None when not worth it."""
        if not self.compressible or len(self.body) < GZIP_MIN_BYTES:
            return None
        return gzip.compress(self.body, compresslevel=9, mtime=0)


@dataclass(frozen=True)
class ConsoleFiles:
    """URL path (below `/console/`, e.g. `assets/app.js`, `kinds/awlr/pages.js`) -> file, and the build."""

    files: dict[str, ConsoleFile]
    build: str
    #: Kinds with console pages, in registry order.
    kinds: tuple[str, ...]

    def get(self, url_path: str) -> ConsoleFile | None:
        return self.files.get(url_path)

    @property
    def generic_pages(self) -> list[str]:
        return generic_pages(self.files, self.build)

    @property
    def kind_modules(self) -> dict[str, str]:
        return kind_modules(self.kinds, self.build)


def generic_pages(url_paths: Iterable[str], build: str) -> list[str]:
    """URLs of the shell's own page modules (`pages/*.js`), naming the build."""
    return [f"/console/{p}?v={build}" for p in sorted(url_paths) if p.startswith("assets/pages/") and p.endswith(".js")]


def kind_modules(kind_names: Iterable[str], build: str) -> dict[str, str]:
    """Kind -> URL of its page module, naming the build."""
    return {kind: f"/console/kinds/{kind}/pages.js?v={build}" for kind in kind_names}


def preloaded_modules(url_paths: Iterable[str], build: str) -> list[str]:
    """URLs of every module the shell's entry imports, directly or not, naming the build as the
    imports do. Vendored libraries are classic scripts, not modules."""
    modules = [p for p in url_paths if p.endswith(".js") and p != ENTRY and not p.startswith(VENDOR)]
    return [f"/console/{p}?v={build}" for p in sorted(modules, key=_load_order)]


def _load_order(url_path: str) -> tuple[int, str]:
    """The shell's own modules first (the entry runs once they are in), then the generic pages,
    then the kinds' modules."""
    for rank, folder in enumerate(("assets/shell/", "assets/pages/")):
        if url_path.startswith(folder):
            return rank, url_path
    return 2, url_path


def preload_links(modules: Iterable[str]) -> str:
    return "\n".join(f'<link rel="modulepreload" href="{url}">' for url in modules)


def kind_stylesheet_links(url_paths: Iterable[str], build: str) -> str:
    """A stylesheet link per `kinds/<kind>/....css`, marked as the kind's (`STYLES_MARKER`)."""
    return "\n".join(
        f'<link rel="stylesheet" href="/console/{p}?v={build}" data-kind-css="{p.split("/")[1]}" data-loaded="1">'
        for p in sorted(url_paths)
        if p.startswith("kinds/") and p.endswith(".css")
    )


def servable(folder: Path) -> Iterator[tuple[str, Path]]:
    """(path relative to `folder`, file) of the files below it that may be served: a known
    extension (or none, for licences), no hidden file or folder, no Python cache."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith((".", "__")) for part in rel.parts):
            continue
        if path.suffix in MEDIA_TYPES:
            yield rel.as_posix(), path


def build_hash(contents: dict[str, bytes]) -> str:
    """A short hash of every file's path and bytes: changes whenever any served byte does."""
    digest = hashlib.blake2b(digest_size=6)
    for name in sorted(contents):
        digest.update(name.encode() + b"\0" + hashlib.blake2b(contents[name]).digest())
    return digest.hexdigest()


def read_console_files(static: Path, kind_dirs: dict[str, Path]) -> ConsoleFiles:
    """Index and read the shell's folder and each kind's console folder."""
    raw: dict[str, bytes] = {}
    for rel, path in servable(static):
        raw[f"assets/{rel}"] = path.read_bytes()
    for kind, folder in kind_dirs.items():
        for rel, path in servable(folder):
            raw[f"kinds/{kind}/{rel}"] = path.read_bytes()
    build = build_hash(raw)
    modules = preloaded_modules(raw, build)
    files = {}
    for url_path, body in raw.items():
        suffix = Path(url_path).suffix
        if suffix in TEMPLATED and not url_path.startswith(VENDOR):
            body = body.replace(BUILD_MARKER.encode(), build.encode())
        if url_path == f"assets/{INDEX}":
            body = body.replace(PRELOAD_MARKER.encode(), preload_links(modules).encode())
            body = body.replace(STYLES_MARKER.encode(), kind_stylesheet_links(raw, build).encode())
        files[url_path] = ConsoleFile(body, MEDIA_TYPES[suffix], suffix in COMPRESSIBLE)
    return ConsoleFiles(files, build, tuple(kind_dirs))


@lru_cache(maxsize=1)
def console_files() -> ConsoleFiles:
    """The package's console files, read at the first app's creation (a few milliseconds)."""
    kind_dirs = {name: folder for name in kinds.kind_names() if (folder := kinds.console_dir(name)) is not None}
    return read_console_files(STATIC, kind_dirs)
