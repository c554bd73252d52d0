"""Chain-wide settings every store applies: any head-office user reads them, an admin sets one
(a change reaches every store's feed as `ConfigurationChanged`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from recommerce.central.api.catalog import writing
from recommerce.central.api.catalog_schemas import ConfigurationIn
from recommerce.central.api.deps import AdminDep, CentralDep, UserDep
from recommerce.central.services import catalog_queries
from recommerce.central.services.configuration import set_configuration

router = APIRouter(prefix="/api/v1/configuration", tags=["configuration"])


@router.get("", summary="Every chain-wide setting: {key: value}")
def get_configuration(central: CentralDep, _user: UserDep) -> dict[str, Any]:
    with central.reading() as conn:
        return catalog_queries.configuration(conn)


@router.put("/{key}", summary="Set one chain-wide setting (any JSON value)")
def put_configuration(
    key: str, body: ConfigurationIn, central: CentralDep, _admin: AdminDep
) -> dict[str, Any]:
    with writing(central) as conn:
        changed = set_configuration(
            conn,
            key,
            body.value,
            now=central.clock.now(),
            retention=central.settings.feed_retention_events,
        )
    return {"key": key, "value": body.value, "changed": changed}
