"""`/subscriptions`: what a user wants to hear about alerts, and where (email or a signed webhook).

A user manages only their own: another user's subscription answers 404 as one that does not
exist, whoever asks. A role subscribes only to alert types it may read in the API (a viewer is
never told of an SOS); an empty list of types means every type the role may read, and the
notifier checks the role again before each message (`central.notify.notifier`). A webhook's
signing secret is derived from the server's pepper and the subscription's id: the answer to its
creation shows it once, and it is stored nowhere.
"""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import Field, StringConstraints

from api.deps import AlertReader, SessionDep, SettingsDep, WriteSessionDep
from api.errors import Forbidden
from api.models import AlertType, ErrorPublic, PublicModel, RequestBody, UtcDatetime
from api.routes import AUTH_ERRORS, BODY_ERRORS, IDENTIFIER
from central.errors import InvalidInput
from central.models import ALERT_TYPES
from central.notify.messages import signing_secret
from central.notify.rules import may_read, readers_of
from central.notify.settings import NotifySettings, load_notify_settings
from central.notify.targets import TargetError, check_email, check_webhook_url
from central.reach_models import CHANNEL_WEBHOOK, Subscription
from contract.clock import utcnow

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])

#: Subscriptions one user may hold: enough for every type and several places, not a mailing list.
MAX_SUBSCRIPTIONS = 50
MAX_SUBJECTS = 100

SubscriptionId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a 32-bit serial on PostgreSQL
SubjectId = Annotated[str, StringConstraints(pattern=IDENTIFIER, max_length=63)]
_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such subscription of the caller's."}}


class SubscriptionNotFound(HTTPException):
    code = "subscription_not_found"

    def __init__(self, subscription_id: int) -> None:
        super().__init__(404, f"subscription {subscription_id} does not exist")


class TooManySubscriptions(HTTPException):
    code = "too_many_subscriptions"

    def __init__(self) -> None:
        super().__init__(409, f"a user may hold at most {MAX_SUBSCRIPTIONS} subscriptions; delete one first")


class SubscriptionCreate(RequestBody):
    channel: Literal["email", "webhook"]
    target: str = Field(
        min_length=3,
        max_length=2000,
        description="An email address, or a webhook URL: https to a public address; to a loopback or private one "
        "where the deployment allows it (TEPI_WEBHOOK_ALLOW_PRIVATE), and then plain http too if it allows that "
        "(TEPI_WEBHOOK_ALLOW_HTTP). No credentials in the URL.",
    )
    alert_types: list[AlertType] = Field(
        default_factory=list, max_length=len(ALERT_TYPES), description="Alert types to hear of; empty: every type the role may read."
    )
    subjects: list[SubjectId] = Field(
        default_factory=list,
        max_length=MAX_SUBJECTS,
        description="Stations, sea areas or vessels (the alerts' `subject`); empty: all of them.",
    )


class SubscriptionPublic(PublicModel):
    id: int
    channel: Literal["email", "webhook"]
    target: str = Field(description="Where messages go (personal data: shown only to its owner).")
    alert_types: list[str]
    subjects: list[str]
    active: bool
    created_at: UtcDatetime


class SubscriptionCreated(SubscriptionPublic):
    signing_secret: str | None = Field(
        description="Webhooks: the secret their messages are signed with (X-Tepi-Signature: sha256=HMAC-SHA256 of "
        "'<X-Tepi-Timestamp>.<body>' keyed with this text). Shown only now; null for email."
    )


class SubscriptionsPublic(PublicModel):
    data: list[SubscriptionPublic]
    count: int


def _public(sub: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=sub.id, channel=sub.channel,  # type: ignore[arg-type]  # checked by the table constraint
        target=sub.target, alert_types=list(sub.alert_types or []), subjects=list(sub.subjects or []),
        active=sub.disabled_at is None, created_at=sub.created_at,
    )


def _notify_settings(request: Request) -> NotifySettings:
    """The notifier's settings (TEPI_WEBHOOK_ALLOW_PRIVATE, _HTTP), read from the environment at first use."""
    settings: NotifySettings | None = getattr(request.app.state, "notify_settings", None)
    if settings is None:
        settings = request.app.state.notify_settings = load_notify_settings()
    return settings


def _own(tenant: str, user_id: int) -> sa.Select[tuple[Subscription]]:
    return sa.select(Subscription).where(
        Subscription.tenant_id == tenant, Subscription.user_id == user_id, Subscription.disabled_at.is_(None)
    )


@router.get("", response_model=SubscriptionsPublic, summary="The caller's subscriptions", responses=AUTH_ERRORS)
def read_subscriptions(session: SessionDep, principal: AlertReader) -> SubscriptionsPublic:
    subs = session.scalars(_own(principal.tenant, principal.user_id).order_by(Subscription.id)).all()
    return SubscriptionsPublic(data=[_public(s) for s in subs], count=len(subs))


@router.post(
    "",
    response_model=SubscriptionCreated,
    status_code=201,
    summary="Subscribe to alerts by email or webhook",
    responses={
        **AUTH_ERRORS,
        **BODY_ERRORS,
        409: {"model": ErrorPublic, "description": f"The caller holds {MAX_SUBSCRIPTIONS} subscriptions already."},
    },
)
def create_subscription(
    body: SubscriptionCreate, request: Request, session: WriteSessionDep, settings: SettingsDep, principal: AlertReader
) -> SubscriptionCreated:
    refused = [t for t in body.alert_types if not may_read(principal.role, t)]
    if refused:
        raise Forbidden(
            f"the {principal.role} role may not read {refused[0]} alerts (only {', '.join(readers_of(refused[0]))}), "
            "so it cannot subscribe to them"
        )
    try:
        if body.channel == CHANNEL_WEBHOOK:
            notify = _notify_settings(request)
            target = check_webhook_url(body.target, allow_http=notify.webhook_allow_http, allow_private=notify.webhook_allow_private)
        else:
            target = check_email(body.target)
    except TargetError as exc:
        raise InvalidInput(f"target: {exc}") from None
    with session.begin():
        held = session.scalar(sa.select(sa.func.count()).select_from(_own(principal.tenant, principal.user_id).subquery()))
        if (held or 0) >= MAX_SUBSCRIPTIONS:
            raise TooManySubscriptions()
        sub = Subscription(
            tenant_id=principal.tenant, user_id=principal.user_id, channel=body.channel, target=target,
            alert_types=list(dict.fromkeys(body.alert_types)), subjects=list(dict.fromkeys(body.subjects)),
            created_at=utcnow(),
        )
        session.add(sub)
        session.flush()
        public = _public(sub)
    secret = signing_secret(settings.pepper(), public.id) if body.channel == CHANNEL_WEBHOOK else None
    return SubscriptionCreated(**public.model_dump(), signing_secret=secret)


@router.delete(
    "/{subscription_id}",
    status_code=204,
    response_class=Response,
    summary="Unsubscribe (messages still owed are not sent)",
    responses={**AUTH_ERRORS, **_NOT_FOUND},
)
def delete_subscription(subscription_id: SubscriptionId, session: WriteSessionDep, principal: AlertReader) -> Response:
    with session.begin():
        sub = session.scalars(_own(principal.tenant, principal.user_id).where(Subscription.id == subscription_id)).one_or_none()
        if sub is None:
            raise SubscriptionNotFound(subscription_id)
        # Kept, disabled: the deliveries made for it point at it.
        sub.disabled_at = utcnow()
    return Response(status_code=204)
