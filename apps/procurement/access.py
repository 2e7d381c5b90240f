"""Who may do what in procurement (admin always may)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from apps.kit.security import Principal, Role, require_roles

# Suppliers, purchase orders, suggestions.
Manager = Annotated[Principal, Depends(require_roles(Role.PROCUREMENT))]
# Goods receipt at the warehouse.
Receiver = Annotated[Principal, Depends(require_roles(Role.WAREHOUSE, Role.PROCUREMENT))]
# Approval of purchase orders above the threshold.
Approver = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.PROCUREMENT, Role.WAREHOUSE, Role.ANALYST, Role.MANAGEMENT)),
]
