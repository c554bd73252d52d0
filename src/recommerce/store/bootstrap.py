"""The one place that wires the store node: settings -> engine, vault, clock, argus, policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from recommerce.buyback.handlers import BuyingPolicy
from recommerce.buyback.quote import ArgusPort, ReferencePriceRule
from recommerce.clock import Clock, SystemClock
from recommerce.store.db.engine import make_engine
from recommerce.store.db.identity import IdentityVault
from recommerce.store.db.migrate import upgrade
from recommerce.store.db.uow import SqlUnitOfWork
from recommerce.store.settings import StoreSettings


@dataclass
class StoreNode:
    settings: StoreSettings
    engine: Engine
    vault: IdentityVault
    clock: Clock = field(default_factory=SystemClock)
    argus: ArgusPort = field(default_factory=ReferencePriceRule)

    @property
    def policy(self) -> BuyingPolicy:
        return BuyingPolicy(
            store_number=self.settings.store_number,
            cash_split_window=self.settings.cash_split_window,
            precious_metal_hold=self.settings.precious_metal_hold,
            zone=self.settings.zone,
        )

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.vault)


def bootstrap(
    settings: StoreSettings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> StoreNode:
    settings = settings or StoreSettings()
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    if settings.identity_key is not None:
        vault = IdentityVault(settings.identity_key.get_secret_value())
    else:
        vault = IdentityVault.from_file(settings.data_dir / "identity.key")
    return StoreNode(settings=settings, engine=engine, vault=vault, clock=clock or SystemClock())
