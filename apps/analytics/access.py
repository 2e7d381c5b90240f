"""Who reads what: analysts, management and admins read every report; a
distributor reads only its own purchase history."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from apps.kit.security import Principal, Role, require_roles

Reader = Annotated[Principal, Depends(require_roles(Role.ANALYST, Role.MANAGEMENT))]
HistoryReader = Annotated[
    Principal,
    Depends(require_roles(Role.ANALYST, Role.MANAGEMENT, Role.SALES, Role.DISTRIBUTOR)),
]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
