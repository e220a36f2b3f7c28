"""Attacks on the shipped defaults, against `tepi api` as a user starts it (a real process).

A forged Host must not put links to the attacker's site into public, cacheable answers; a
forged X-Forwarded-For from the API's own host must not buy a fresh rate-limit bucket unless
the operator said that host is a proxy.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from lxml import etree
from sqlalchemy.engine import Engine

from api.limits import client_address
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL
from core.config import TepiConfig
from core.processes import free_port, wait_for_port

EVIL = "evil.example"
#: Every header a client could use to steer where links point.
FORGED = {
    "Host": EVIL,
    "X-Forwarded-Host": EVIL,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
    "Forwarded": f"host={EVIL};proto=https",
    "X-Original-Host": EVIL,
}
ATOM = "{http://www.w3.org/2005/Atom}"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"

StartApi = Callable[..., str]


@pytest.fixture
def tepi_api(database_url: str, engine: Engine, default_config: TepiConfig, tmp_path: Path) -> Iterator[StartApi]:
    """Starts `tepi api` over the populated database in production mode (TEPI_MODE unset), with the
    deployment's secrets and base URL; `**env` adds or overrides TEPI_* variables."""
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    config = default_config.model_copy(
        update={"ingest": default_config.ingest.model_copy(update={"database_url": database_url})}
    )
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))

    def start(**env: str) -> str:
        port = free_port()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")} | {
            "TEPI_AUTH_PEPPER": TEST_PEPPER,
            "TEPI_PUBLIC_BASE_URL": TEST_PUBLIC_BASE_URL,
            "TEPI_PUBLIC_CACHE_S": "0",
            **env,
        }
        log = tmp_path / f"api-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tepi.cli", "api", "-c", str(path), "--port", str(port), "--log-level", "WARNING"],
                env=environment,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append((proc, log))
        try:
            wait_for_port(port, timeout=60, proc=proc)
        except Exception as exc:
            raise AssertionError(log.read_text(errors="replace")[-3000:]) from exc
        return f"http://127.0.0.1:{port}"

    yield start
    for proc, _log in procs:
        proc.terminate()
    for proc, _log in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the database is not what is attacked
def test_a_forged_host_puts_no_link_of_its_own_into_public_answers(tepi_api: StartApi) -> None:
    base = tepi_api(TEPI_PUBLIC_BURST="1000")
    with httpx.Client(base_url=base, headers=FORGED, timeout=10) as http:
        feed_answer = http.get("/api/v1/alerts/cap", params={"tenant": "dki-jakarta", "spoof": f"//{EVIL}/"})
        assert feed_answer.status_code == 200, feed_answer.text
        feed = etree.fromstring(feed_answer.content)
        links = [link.get("href", "") for link in feed.iter(f"{ATOM}link")]
        bodies = [feed_answer.text]
        # The story has three alerts not yet closed: the feed's own link and one per alert.
        assert len(links) == 4
        for cap_url in links[1:]:
            message = http.get(cap_url.removeprefix(TEST_PUBLIC_BASE_URL))
            assert message.status_code == 200, message.text
            bodies.append(message.text)
            webs = [web.text or "" for web in etree.fromstring(message.content).iter(f"{CAP}web")]
            assert webs, "every CAP info block links the public station view"
            links += webs
        public = http.get("/api/v1/public/stations")
        assert public.status_code == 200 and public.headers["cache-control"].startswith("public")
        bodies.append(public.text)
        redirect = http.get("/api/v1/alerts/cap/")  # a trailing slash: no redirect built from Host either
        assert EVIL not in redirect.headers.get("location", "")

    assert all(link.startswith(f"{TEST_PUBLIC_BASE_URL}/api/v1/") for link in links), links
    assert links[0] == f"{TEST_PUBLIC_BASE_URL}/api/v1/alerts/cap?tenant=dki-jakarta"  # only the validated query
    assert not [body for body in bodies if EVIL in body]
    urls = {u for body in bodies for u in re.findall(r"https?://[^\s\"'<>]+", body)}
    assert {u.split("/")[2] for u in urls} <= {"banjir.example.go.id", "www.w3.org"}, urls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_for_from_the_api_host_does_not_bypass_the_public_rate_limit(tepi_api: StartApi) -> None:
    base = tepi_api(TEPI_PUBLIC_BURST="3", TEPI_PUBLIC_RATE_PER_S="0.001")
    with httpx.Client(base_url=base, timeout=10) as http:
        codes = [
            http.get("/api/v1/public/stations", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(1, 6)
        ]
    # Every request comes from 127.0.0.1, which nobody configured as a proxy: one bucket of three.
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_for_counts_the_right_most_untrusted_hop_behind_configured_proxies(tepi_api: StartApi) -> None:
    base = tepi_api(
        TEPI_PUBLIC_BURST="2", TEPI_PUBLIC_RATE_PER_S="0.001", TEPI_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8"
    )

    def get(forwarded_for: str) -> int:
        return http.get("/api/v1/public/stations", headers={"X-Forwarded-For": forwarded_for}).status_code

    with httpx.Client(base_url=base, timeout=10) as http:
        # Real clients behind the proxy each get their own bucket.
        assert [get("203.0.113.7"), get("203.0.113.8"), get("203.0.113.7"), get("203.0.113.8")] == [200] * 4
        # A client writing its own X-Forwarded-For in front of what the proxies append gains nothing:
        # 203.0.113.7 (appended by the proxy) is the right-most address that is not a proxy.
        assert get("192.0.2.1, 203.0.113.7, 10.1.2.3") == 429
        assert get("192.0.2.2, 203.0.113.7") == 429
        assert get("203.0.113.9, 10.9.9.9") == 200  # a new client, through two proxies


PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "client"),
    [
        ("127.0.0.1", ["198.51.100.1"], [], "127.0.0.1"),  # no proxies configured: XFF is ignored
        ("203.0.113.5", ["198.51.100.1"], PROXIES, "203.0.113.5"),  # not from a proxy: ignored
        ("10.0.0.2", ["198.51.100.1, 203.0.113.5"], PROXIES, "203.0.113.5"),  # right-most untrusted
        ("10.0.0.2", ["198.51.100.1", "203.0.113.5, 10.0.0.3"], PROXIES, "203.0.113.5"),  # headers joined in order
        ("::ffff:127.0.0.1", ["2001:db8::7"], PROXIES, "2001:db8::7"),  # IPv4-mapped peer
        ("fd00::1", ["2001:db8::7, fd00::2"], PROXIES, "2001:db8::7"),
        ("10.0.0.2", ["10.0.0.3, 10.0.0.4"], PROXIES, "10.0.0.3"),  # only proxies: the left-most
        ("10.0.0.2", [], PROXIES, "10.0.0.2"),  # a proxy's own request
        ("10.0.0.2", ["_hidden, 10.0.0.3"], PROXIES, "_hidden"),  # an obfuscated identifier (RFC 7239)
        (None, ["198.51.100.1"], PROXIES, "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded_for: list[str], trusted: list, client: str) -> None:
    assert client_address(peer, forwarded_for, trusted) == client
