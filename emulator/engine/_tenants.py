"""Tenants are API keys: every job and file belongs to the key that created it."""

from __future__ import annotations

from ._errors import Unauthorized
from ._store import Store, Tenant


class Tenants:
    def __init__(self, store: Store) -> None:
        self.store = store

    def resolve(self, key: str) -> Tenant:
        """The tenant of an API key, made on its first request; a 401 when the settings name the
        only keys allowed (auth "known") and this is not one of them."""
        tenant = self.store.get_tenant(key)
        if tenant is None:
            known = self.store.known_keys()
            if known is not None and key not in known:
                raise Unauthorized()
            tenant = Tenant(key)
            self.store.put_tenant(tenant)
        return tenant

    def all(self) -> list[Tenant]:
        """Every tenant, in the order they appeared."""
        return self.store.tenants()

    def find(self, key: str) -> Tenant | None:
        """The tenant of a key that has one already (no tenant is made)."""
        return self.store.get_tenant(key)

    def name(self, key: str, name: str | None) -> Tenant:
        """Make (or rename) a tenant from the settings, whatever the auth mode."""
        tenant = Tenant(key, name)
        self.store.put_tenant(tenant)
        return tenant
