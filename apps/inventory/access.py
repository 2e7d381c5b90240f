"""Who may do what in the inventory service (docs/architecture.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from apps.kit.security import (
    STAFF_ROLES,
    Principal,
    Role,
    require_roles,
    require_roles_or_scopes,
    require_scopes,
)

# People: staff read the catalogue and stock; admin edits the catalogue and
# warehouses; warehouse staff adjust, transfer and receive; distributors (and
# every staff role) see availability only.
Staff = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
WarehouseStaff = Annotated[Principal, Depends(require_roles(Role.WAREHOUSE))]
CatalogReader = Annotated[
    Principal, Depends(require_roles_or_scopes(STAFF_ROLES, ["catalog:read"]))
]
AvailabilityReader = Annotated[
    Principal,
    Depends(require_roles_or_scopes(STAFF_ROLES | {Role.DISTRIBUTOR}, ["catalog:read"])),
]
# Services: the order service reserves, procurement receives.
Reserver = Annotated[Principal, Depends(require_scopes("inventory:reserve"))]
ReservationReader = Annotated[
    Principal, Depends(require_roles_or_scopes(STAFF_ROLES, ["inventory:reserve"]))
]
Receiver = Annotated[
    Principal, Depends(require_roles_or_scopes([Role.WAREHOUSE], ["inventory:receive"]))
]
