"""`/me`, `/users`, `/keys`: the caller, and the tenant's users and API keys (tenant admins).

An admin manages their own tenant only; other tenants' users and keys answer 404. Tenants and
their first admin are created by the platform operator with `tepi admin`, not through the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import AnyRole, ConfigDep, PageLimit, PageOffset, SessionDep, SettingsDep, TenantAdmin, WriteSessionDep
from api.models import (
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
    ErrorPublic,
    MePublic,
    UserCreate,
    UserPublic,
    UsersPublic,
)
from api.routes import AUTH_ERRORS, BODY_ERRORS
from api.routes.session import tenant_timezone
from central import accounts as auth
from central.models import Tenant
from central.web_sessions import csrf_token

router = APIRouter(tags=["users"])

UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a 32-bit serial on PostgreSQL
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
_USER_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such user in the caller's tenant."}}


@router.get("/me", response_model=MePublic, summary="The authenticated caller", responses=AUTH_ERRORS)
def read_me(session: SessionDep, config: ConfigDep, settings: SettingsDep, principal: AnyRole) -> MePublic:
    """Who is signed in, with what the console shows and needs: the tenant's name and time zone,
    and, for a session cookie, the CSRF token (the console reads it again after a reload)."""
    user = auth.get_user(session, principal.user_id, principal.tenant)
    tenant = session.get(Tenant, principal.tenant)
    csrf = csrf_token(settings.pepper(), principal.session_id) if principal.session_id is not None else None
    return MePublic(
        user_id=principal.user_id,
        name=principal.name,
        tenant=principal.tenant,
        tenant_name=tenant.name if tenant is not None else principal.tenant,
        timezone=tenant_timezone(config, principal.tenant),
        role=principal.role,  # type: ignore[arg-type]  # checked by the table constraint
        email=user.email,
        key_id=principal.key_id,
        csrf_token=csrf,
    )


@router.get("/users", response_model=UsersPublic, summary="Users of the caller's tenant", responses=AUTH_ERRORS)
def read_users(
    session: SessionDep, principal: TenantAdmin, limit: PageLimit = 100, offset: PageOffset = 0
) -> UsersPublic:
    users, total = auth.list_users(session, principal.tenant, limit, offset)
    return UsersPublic(
        data=[UserPublic.model_validate(u) for u in users], count=total, limit=limit, offset=offset
    )


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    summary="Add a user to the caller's tenant",
    responses={**AUTH_ERRORS, **BODY_ERRORS, 409: {"model": ErrorPublic, "description": "The name is taken."}},
)
def create_user(body: UserCreate, session: WriteSessionDep, principal: TenantAdmin) -> UserPublic:
    with session.begin():
        user = auth.create_user(session, principal.tenant, body.name, body.role)
        return UserPublic.model_validate(user)


@router.get(
    "/users/{user_id}/keys",
    response_model=ApiKeysPublic,
    summary="API keys of a user (never the keys themselves)",
    responses={**AUTH_ERRORS, **_USER_NOT_FOUND},
)
def read_user_keys(
    user_id: UserId, session: SessionDep, principal: TenantAdmin, limit: PageLimit = 100, offset: PageOffset = 0
) -> ApiKeysPublic:
    keys, total = auth.list_keys(session, principal.tenant, user_id, limit, offset)
    return ApiKeysPublic(
        data=[ApiKeyPublic.model_validate(k) for k in keys], count=total, limit=limit, offset=offset
    )


@router.post(
    "/users/{user_id}/keys",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Make an API key for a user: the answer is the only time the key is shown",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_USER_NOT_FOUND},
)
def create_user_key(
    user_id: UserId, session: WriteSessionDep, settings: SettingsDep, principal: TenantAdmin
) -> ApiKeyCreated:
    with session.begin():
        row, key = auth.create_key(session, settings.pepper(), user_id, tenant=principal.tenant)
        return ApiKeyCreated.model_validate({**ApiKeyPublic.model_validate(row).model_dump(), "key": key})


@router.delete(
    "/keys/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key (effective at the next request)",
    responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "No such key in the caller's tenant."}},
)
def revoke_key(key_id: KeyId, session: WriteSessionDep, principal: TenantAdmin) -> Response:
    with session.begin():
        auth.revoke_key(session, key_id, tenant=principal.tenant)
    return Response(status_code=204)
