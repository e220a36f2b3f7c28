"""How the notifier reaches people, from `TEPI_*` environment variables of the ingest process
(where it runs) and, for what a subscription may point at, of the API.

The deployment file says who is in an escalation chain (`tenants[].escalation`); these say how
mail leaves this machine, which is the operator's business and may hold a password.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettingsError(RuntimeError):
    """The notifier's settings are invalid; the message names the variables."""


class NotifySettings(BaseSettings):
    """SMTP, webhooks and the notifier's pace. Without `smtp_host` no email is sent: owed emails
    wait (and are given up after a day), and ingest says so once when it starts."""

    model_config = SettingsConfigDict(env_prefix="TEPI_", extra="ignore", frozen=True, allow_inf_nan=False)

    smtp_host: str | None = Field(default=None, description="SMTP server (relay) for email; unset: no email is sent.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="25 (relay), 587 (submission, with STARTTLS).")
    smtp_from: str = Field(default="tepi@localhost", max_length=254, description="The From address of every email.")
    smtp_username: str | None = Field(default=None, description="Log in with this user (after STARTTLS when set).")
    smtp_password: SecretStr | None = Field(default=None, description="Password of `smtp_username`.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (certificate verified).")
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120, description="Per SMTP connection and command.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120, description="Per webhook request.")
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhooks to loopback and private addresses (an SMS or WhatsApp gateway in the "
        "deployment's own network); public addresses only otherwise, checked on every send after resolving the "
        "host. Read by the API (subscribing) and ingest (sending).",
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Allow plain-http webhooks to loopback and private addresses written as such (needs "
        "webhook_allow_private too); https only otherwise. Read by the API (subscribing) and ingest (sending).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The console's address for links in messages (the API's TEPI_PUBLIC_BASE_URL); "
        "default: the config's api host and port.",
    )
    auth_pepper: SecretStr | None = Field(
        default=None,
        description="The API's TEPI_AUTH_PEPPER: webhook signing secrets derive from it. Unset in ingest: "
        "webhook messages wait (and are given up after a day).",
    )
    notify_every_s: float = Field(
        default=5.0, ge=0, le=3600, description="Seconds between notifier passes in each ingest worker; 0: off."
    )

    def pepper(self) -> bytes | None:
        return self.auth_pepper.get_secret_value().encode() if self.auth_pepper is not None else None


def load_notify_settings() -> NotifySettings:
    """The settings from the environment; `NotifySettingsError` naming every invalid variable."""
    try:
        return NotifySettings()
    except ValidationError as exc:
        lines = [f"  TEPI_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()]
        raise NotifySettingsError("refusing to run with these notifier settings:\n" + "\n".join(lines)) from None
