"""The console's files as a browser gets them: the page at `/`, assets with their types, caching
and compression, the manifest, nothing outside the console's folders, and the alert stream
still streaming now that answers are gzipped."""

from __future__ import annotations

import gzip
import re
import tomllib
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from api_people import DKI, OFFICER, app_settings
from prometheus_client import CollectorRegistry

import kinds
from api import permissions
from api.console.files import STATIC, build_hash, read_console_files, servable
from api.console.land import LAND_FILE
from api.console.serving import CONTENT_SECURITY_POLICY
from api.main import create_app
from api.testing import bearer, parse_sse
from core.config import TepiConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app whose lifespan never runs: the console's files need no database."""
    from core.config import load_config

    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'unused.db'}"
    yield TestClient(create_app(load_config(), app_settings(url), registry=CollectorRegistry()))


@pytest.fixture(scope="module")
def build(console: TestClient) -> str:
    return str(console.get("/console/manifest.json").json()["build"])


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_the_page_at_the_root_is_the_console_with_its_security_headers(console: TestClient, build: str) -> None:
    r = console.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-cache"
    page = _Tags()
    page.feed(r.text)
    assert not page.inline_script
    assert not [(t, a) for t, a in page.tags if any(name.startswith("on") for name in a)]  # no inline handlers
    scripts = [a["src"] for t, a in page.tags if t == "script"]
    assert f"/console/assets/app.js?v={build}" in scripts
    assert all(src and src.startswith("/console/assets/") and src.endswith(f"?v={build}") for src in scripts)
    assert "{{" not in r.text
    # Every page module the manifest names is fetched with the shell, not after it.
    preloaded = {a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "modulepreload"}
    assert set(console.get("/console/manifest.json").json()["pages"]) <= preloaded


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/console/assets/app.js", "text/javascript; charset=utf-8"),
        ("/console/assets/shell/api.js", "text/javascript; charset=utf-8"),
        ("/console/assets/app.css", "text/css; charset=utf-8"),
        ("/console/assets/vendor/leaflet/images/marker-icon.png", "image/png"),
        ("/console/assets/icon.svg", "image/svg+xml"),
        ("/console/assets/vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
        ("/console/manifest.json", "application/json"),
    ],
)
def test_assets_are_served_with_their_types_and_nosniff(console: TestClient, path: str, media_type: str) -> None:
    r = console.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    assert r.headers["x-content-type-options"] == "nosniff"


def test_the_vendored_libraries_are_the_packaged_files_with_their_licences(console: TestClient) -> None:
    for path in ["vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/uplot/uPlot.iife.min.js"]:
        assert console.get(f"/console/assets/{path}").content == (STATIC / path).read_bytes()
    assert "BSD 2-Clause" in console.get("/console/assets/vendor/leaflet/LICENSE").text
    assert "MIT License" in console.get("/console/assets/vendor/uplot/LICENSE").text


def test_a_url_naming_the_build_is_cached_for_good_and_others_are_revalidated(console: TestClient, build: str) -> None:
    versioned = console.get(f"/console/assets/app.js?v={build}")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    for stale in ("/console/assets/app.js", "/console/assets/app.js?v=0123456789ab"):
        assert console.get(stale).headers["cache-control"] == "no-cache"
    again = console.get("/console/assets/app.js", headers={"If-None-Match": versioned.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_shell_imports_its_modules_by_the_build(console: TestClient, build: str) -> None:
    app_js = console.get("/console/assets/app.js").text
    imports = re.findall(r"from '(\./shell/[a-z]+\.js[^']*)'", app_js)
    assert imports and all(i.endswith(f"?v={build}") for i in imports)


#: A static import's specifier (`import x from '...'`, `import {\n...} from '...'`, `import '...'`).
_IMPORT = re.compile(r"^import\s+(?:[^'\";]*?\sfrom\s*)?'([^']+)'", re.MULTILINE)


def test_every_module_the_console_imports_is_fetched_with_the_shell_by_its_build(
    console: TestClient, build: str
) -> None:
    """One round of fetches instead of one per level of imports: the page preloads every module
    that the shell and the page modules of the manifest import, each under the URL its importer
    names (naming the build, so it is cached for good), and nothing else."""
    page = _Tags()
    page.feed(console.get("/").text)
    preloaded = {a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "modulepreload"}
    manifest = console.get("/console/manifest.json").json()
    todo = [f"/console/assets/app.js?v={build}", *manifest["pages"], *(k["module"] for k in manifest["kinds"])]
    imported: set[str] = set(todo[1:])
    while todo:
        url = todo.pop()
        r = console.get(url)
        assert r.status_code == 200, url
        for spec in _IMPORT.findall(r.text):
            assert spec.startswith("./") and spec.endswith(f"?v={build}"), f"{url} imports {spec}"
            target = str(httpx.URL(url).join(spec))
            if target not in imported:
                imported.add(target)
                todo.append(target)
    assert preloaded == imported


def test_each_kinds_stylesheet_comes_with_the_page_marked_as_its_pages_look_for_it(
    console: TestClient, build: str
) -> None:
    """A kind's page adds its stylesheet unless `link[data-kind-css=<kind>]` is there already:
    linked by the page, it is in before the page's module runs, not fetched after it."""
    page = _Tags()
    page.feed(console.get("/").text)
    links = [a for t, a in page.tags if t == "link" and a.get("rel") == "stylesheet"]
    linked = {a["href"]: a["data-kind-css"] for a in links if "data-kind-css" in a}
    shipped = {
        f"/console/kinds/{kind}/{css.name}?v={build}": kind
        for kind in kinds.kind_names()
        if (folder := kinds.console_dir(kind)) is not None
        for css in folder.glob("*.css")
    }
    assert shipped and linked == shipped
    assert all(console.get(str(href)).headers["content-type"].startswith("text/css") for href in linked)


def test_who_is_signed_in_and_the_manifest_are_asked_for_by_the_page_itself(console: TestClient) -> None:
    page = _Tags()
    page.feed(console.get("/").text)
    fetched = {a["href"] for t, a in page.tags if t == "link" and a.get("rel") == "preload" and a.get("as") == "fetch"}
    assert fetched == {"/api/v1/me", "/console/manifest.json"}


def test_text_assets_come_gzipped_and_images_do_not(console: TestClient) -> None:
    path = "vendor/leaflet/leaflet.js"
    with console.stream("GET", f"/console/assets/{path}", headers={"Accept-Encoding": "gzip, deflate, br"}) as r:
        assert r.headers["content-encoding"] == "gzip" and "accept-encoding" in r.headers["vary"].lower()
        sent = b"".join(r.iter_raw())  # the bytes on the wire, not decoded
    assert gzip.decompress(sent) == (STATIC / path).read_bytes()
    assert len(sent) < (STATIC / path).stat().st_size / 3
    png = console.get("/console/assets/vendor/leaflet/images/marker-icon.png", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in png.headers
    plain = console.get(f"/console/assets/{path}", headers=IDENTITY)
    assert "content-encoding" not in plain.headers and plain.content == (STATIC / path).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/console/assets/%2e%2e/serving.py",
        "/console/assets/..%2fland.py",
        "/console/assets/%2e%2e/%2e%2e/main.py",
        "/console/assets/%2fetc%2fpasswd",
        "/console/assets//etc/passwd",
        "/console/assets/shell",
        "/console/assets/README.md",
        "/console/assets/missing.js",
        "/console/kinds/awlr/%2e%2e/config.py",
        "/console/kinds/awlr/..%2f..%2f..%2fapi%2fmain.py",
        "/console/kinds/no-such-kind/pages.js",
        "/console/kinds/%2e%2e/api/console/static/app.js",
    ],
)
def test_nothing_outside_the_console_files_is_served(console: TestClient, path: str) -> None:
    r = console.get(path)
    assert r.status_code == 404, r.text[:200]
    assert r.json()["code"] == "not_found"


def test_the_manifest_names_the_build_the_pages_and_every_role_constant(console: TestClient, build: str) -> None:
    manifest = console.get("/console/manifest.json").json()
    constants = {
        name: list(value) for name, value in vars(permissions).items() if name.isupper() and isinstance(value, tuple)
    }
    assert manifest["roles"] == constants
    assert manifest["roles"]["ALERT_ACTORS"] == ["admin", "disaster_office"]
    assert set(map(tuple, manifest["roles"].values())) >= {v for v in permissions.TABLE.values() if isinstance(v, tuple)}
    with_pages = [name for name in kinds.kind_names() if kinds.console_dir(name) is not None]
    assert manifest["kinds"] == [{"kind": k, "module": f"/console/kinds/{k}/pages.js?v={build}"} for k in with_pages]
    assert f"/console/assets/pages/alerts.js?v={build}" in manifest["pages"]
    for url in [*manifest["pages"], *(k["module"] for k in manifest["kinds"])]:
        assert console.get(url).status_code == 200


def test_another_app_of_the_same_package_has_the_same_build(build: str, tmp_path: Path) -> None:
    from core.config import load_config

    other = TestClient(create_app(load_config(), app_settings(f"sqlite:///{tmp_path / 'x.db'}"), registry=CollectorRegistry()))
    assert other.get("/console/manifest.json").json()["build"] == build


def test_the_build_changes_with_any_byte_and_marks_the_shells_files(tmp_path: Path) -> None:
    static, pages = tmp_path / "static", tmp_path / "awlr"
    for folder in (static / "vendor", static / ".git", static / "__pycache__", pages):
        folder.mkdir(parents=True)
    (static / "index.html").write_text('<script src="/console/assets/app.js?v={{build}}"></script>{{preload}}')
    (static / "pages").mkdir()
    (static / "pages" / "alerts.js").write_text("export default [];")
    (static / "app.js").write_text("import './x.js?v={{build}}';")
    (static / "vendor" / "lib.js").write_text("'{{build}}'")
    (static / "notes.md").write_text("not served")
    (static / ".git" / "config").write_text("secret")
    (static / "__pycache__" / "x.js").write_text("")
    (pages / "pages.js").write_text("export default [];")
    files = read_console_files(static, {"awlr": pages})
    assert set(files.files) == {"assets/index.html", "assets/app.js", "assets/pages/alerts.js", "assets/vendor/lib.js", "kinds/awlr/pages.js"}
    assert files.get("assets/index.html").body.decode() == (
        f'<script src="/console/assets/app.js?v={files.build}"></script>'
        f'<link rel="modulepreload" href="/console/assets/pages/alerts.js?v={files.build}">\n'
        f'<link rel="modulepreload" href="/console/kinds/awlr/pages.js?v={files.build}">'
    )
    assert files.get("assets/app.js").body.decode() == f"import './x.js?v={files.build}';"
    assert files.get("assets/vendor/lib.js").body == b"'{{build}}'"  # vendored files are never rewritten
    (pages / "pages.js").write_text("export default [ ];")
    assert read_console_files(static, {"awlr": pages}).build != files.build
    assert build_hash({"a": b"1"}) != build_hash({"b": b"1"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_alert_stream_is_not_compressed_while_json_answers_are(live_api: str, keys: dict[tuple[str, str], str]) -> None:
    headers = {**bearer(keys[(DKI, OFFICER)]), "Accept-Encoding": "gzip"}
    with httpx.Client(timeout=5, headers=headers) as http:
        with http.stream("GET", f"{live_api}/api/v1/alerts/stream", headers={"Last-Event-ID": "0"}) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in r.headers
            first = next(m for m in parse_sse(r.iter_lines()) if m.data_lines)  # arrives while the stream stays open
            assert first.json()["kind"] == "opened"
        listed = http.get(f"{live_api}/api/v1/alerts")
        assert listed.headers["content-encoding"] == "gzip" and listed.json()["count"] >= 3


def test_the_console_routes_are_not_api_operations(console: TestClient, default_config: TepiConfig) -> None:
    paths = console.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert not [p for p in paths if p == "/" or p.startswith("/console")]


def test_every_console_file_ships_in_the_package() -> None:
    """The wheel's package data (pyproject.toml) covers every file the console serves, and the basemap."""
    root = Path(__file__).resolve().parents[2]
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    shipped = {p for pattern in package_data["api.console"] for p in (root / "api" / "console").glob(pattern)}
    shipped |= {p for pattern in package_data["kinds"] for p in (root / "kinds").glob(pattern)}
    served = {path for _, path in servable(STATIC)} | {LAND_FILE}
    for name in kinds.kind_names():
        if (folder := kinds.console_dir(name)) is not None:
            served |= {path for _, path in servable(folder)}
    assert served - shipped == set()
