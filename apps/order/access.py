"""Who may do what in the order service (admin always may): sales manage distributors;
sales and distributors place and cancel orders (a distributor only its own); the
warehouse ships and delivers; every role reads (a distributor only its own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from apps.kit.security import STAFF_ROLES, Principal, Role, require_roles

Manager = Annotated[Principal, Depends(require_roles(Role.SALES))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF_ROLES))]
Reader = Annotated[Principal, Depends(require_roles(*Role))]
Placer = Annotated[Principal, Depends(require_roles(Role.SALES, Role.DISTRIBUTOR))]
Warehouse = Annotated[Principal, Depends(require_roles(Role.WAREHOUSE))]
