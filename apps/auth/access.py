"""Who may do what in the auth service: admins manage users, keys and the audit trail;
every signed-in caller manages its own account (`CurrentPrincipal`, apps/kit/security.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from apps.kit.security import Principal, Role, require_roles

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
