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
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import kinds

STATIC = Path(__file__).parent / "static"
INDEX = "index.html"
#: Replaced by the build hash in the files of these types, except the vendored libraries.
BUILD_MARKER = "{{build}}"
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
    files = {}
    for url_path, body in raw.items():
        suffix = Path(url_path).suffix
        if suffix in TEMPLATED and not url_path.startswith(VENDOR):
            body = body.replace(BUILD_MARKER.encode(), build.encode())
        files[url_path] = ConsoleFile(body, MEDIA_TYPES[suffix], suffix in COMPRESSIBLE)
    return ConsoleFiles(files, build, tuple(kind_dirs))


@lru_cache(maxsize=1)
def console_files() -> ConsoleFiles:
    """The package's console files, read at the first app's creation (a few milliseconds)."""
    kind_dirs = {name: folder for name in kinds.kind_names() if (folder := kinds.console_dir(name)) is not None}
    return read_console_files(STATIC, kind_dirs)
