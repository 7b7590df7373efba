"""The admin app: the write API under /admin/api/v1 (token + role)."""
