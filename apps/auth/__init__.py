"""The auth service: users, roles, passwords, tokens and signing keys."""
