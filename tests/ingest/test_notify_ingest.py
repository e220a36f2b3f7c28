"""The notifier runs inside the ingest worker, configured as a deployment configures it: `TEPI_*`
variables in ingest's environment and `tenants[].escalation` in the file. An alert left
unacknowledged reaches the chain's first person at a real SMTP server, with the wall clock (a
chain of seconds), as the console's browser test sees it; stopping the worker stops the thread.
"""

from __future__ import annotations

import threading

import pytest
from notify_world import DKI, World, with_escalation
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from api.testing import TEST_PEPPER
from central.notify.testing import SmtpInbox, WebhookReceiver
from core.config import BrokerConfig, TepiConfig
from core.processes import free_port
from ingest.consumer import IngestWorker

HEAD = "Kepala Pusdalops"


def test_ingest_escalates_by_email_from_its_environment(
    engine: Engine, database_url: str, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = with_escalation(default_config, DKI, [HEAD], after_min=0.01)  # 0.6 s
    with SmtpInbox() as inbox, WebhookReceiver() as hooks:
        for name, value in {
            "TEPI_SMTP_HOST": inbox.host, "TEPI_SMTP_PORT": str(inbox.port), "TEPI_SMTP_FROM": "tepi@bpbd.example.go.id",
            "TEPI_NOTIFY_EVERY_S": "0.05", "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        }.items():
            monkeypatch.setenv(name, value)
        world = World(engine, config, inbox, hooks)
        world.person(DKI, HEAD, "disaster_office", "kepala@bpbd.jakarta.go.id")
        worker = IngestWorker(
            config.ingest.model_copy(update={"broker": BrokerConfig(port=free_port()), "database_url": database_url}),
            config, registry=CollectorRegistry(), engine=engine, prepare_schema=False, offline_check_s=3600,
        )
        assert worker.notifier is not None
        worker.start()
        try:
            world.siaga("katulampa", 2)
            [mail] = inbox.wait_for(1, timeout_s=60)
        finally:
            worker.stop()
        assert mail.rcpt_tos == ["kepala@bpbd.jakarta.go.id"]
        assert mail.subject == "[Tepi] Belum ditanggapi: SIAGA II — Bendung Katulampa"
        assert "http://127.0.0.1:8000/#/alerts" in mail.text
        assert "notifier" not in {t.name for t in threading.enumerate()}


def test_the_notifier_can_be_turned_off(engine: Engine, database_url: str, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEPI_NOTIFY_EVERY_S", "0")
    worker = IngestWorker(
        default_config.ingest.model_copy(update={"broker": BrokerConfig(port=free_port()), "database_url": database_url}),
        default_config, registry=CollectorRegistry(), engine=engine, prepare_schema=False,
    )
    assert worker.notifier is None


@pytest.mark.parametrize(("name", "value"), [("TEPI_SMTP_PORT", "smtp"), ("TEPI_NOTIFY_EVERY_S", "-1"), ("TEPI_SMTP_STARTTLS", "perhaps")])
def test_tepi_ingest_with_invalid_notifier_settings_says_which_and_stops(name: str, value: str) -> None:
    """As `tepi api` says its settings' errors: the variable named, exit 2, no traceback."""
    from typer.testing import CliRunner

    from tepi.cli import app

    result = CliRunner().invoke(app, ["ingest", "--text-logs"], env={"COLUMNS": "200", name: value})
    assert result.exit_code == 2, result.output
    assert "ingest cannot start" in result.output and name in result.output, result.output
    assert isinstance(result.exception, SystemExit), result.exception
