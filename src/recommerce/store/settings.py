"""The store node's settings, read from RECOMMERCE_* environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from recommerce.buyback.offer import DEFAULT_PERCENT_ABOVE_OFFER, OverrideBounds
from recommerce.staff.model import Role
from recommerce.sync.protocol import PROTOCOL_VERSION


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECOMMERCE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var/store")
    database_url: str | None = None  # default: SQLite in data_dir
    store_number: int = 1
    store_name: str = "Magasin 001"
    store_city: str = "Paris"
    store_address: str = "1 rue de Rivoli, 75001 Paris"  # printed on contracts
    timezone: str = "Europe/Paris"  # the store's legal day and the times printed in registers
    # Secret for identity documents: Fernet key (encryption at rest, rule F.24) and HMAC key.
    identity_key: SecretStr | None = None
    # The Ed25519 key that signs the fiscal journal lives outside the database (rule D.17).
    fiscal_key_path: Path | None = None  # default: data_dir/fiscal-ed25519.pem
    till_max_discount_percent: int = 10  # above it, a line discount needs a manager
    return_window_days: int = 30
    till_requires_open_session: bool = True  # sales only between opening and closing a till  # how long after a sale an item may be brought back
    # "host" or "host:port" of a network ESC/POS printer; unset: receipts go to files in
    # data_dir/receipts (the demo, tests, or a till whose printer is out of order).
    receipt_printer: str | None = None
    store_siret: str | None = None  # printed on receipts
    # Item photos: files in data_dir/photos by default, or an S3-compatible bucket
    # ("s3://bucket/prefix", with its endpoint for MinIO and other providers).
    photo_store: str | None = None
    photo_store_endpoint: str | None = None
    # Only in a simulated chain (`recommerce sim`): a file holding how far the simulated time
    # runs ahead of real time; every process of the chain reads the same one.
    clock_file: Path | None = None
    token_ttl_hours: int = 12
    cash_split_window_hours: int = 24  # cash paid to one seller within this window counts once
    precious_metal_hold_hours: int = 48  # business-rules A.8 (?): setting, default 48 h
    group_lots: bool = True  # objects of 60 EUR or less may share one register entry
    # How far above the argus' buy offer each role may pay (with a reason), in percent of the
    # offer, as JSON: {"buyer": 10, "manager": 30}. A role not named may not pay above it.
    buy_offer_override_percent: dict[Role, int] = Field(
        default_factory=lambda: dict(DEFAULT_PERCENT_ABOVE_OFFER)
    )
    log_json: bool = False
    # Sync with central (docs/sync-protocol.md). The central URL is saved at enrolment; this
    # overrides it (central moved). The worker runs while the store is enrolled and enabled.
    central_url: str | None = None
    sync_enabled: bool = True
    sync_batch_size: int = 1000  # outbox events per upstream batch (central takes 1,000 at most)
    sync_protocol_version: int = PROTOCOL_VERSION  # the previous version is for older stores
    sync_feed_wait_s: int = 25  # how long central holds a feed request with nothing to give
    sync_timeout_s: float = 10.0  # an HTTP call to central, on top of the feed's wait

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> StoreSettings:
        if self.environment == "production":
            if self.identity_key is None:
                raise ValueError("RECOMMERCE_IDENTITY_KEY must be set in production")
            if not self.database_url:
                raise ValueError("RECOMMERCE_DATABASE_URL must be set in production")
        if not 0 <= self.store_number <= 999:
            raise ValueError("RECOMMERCE_STORE_NUMBER is between 0 and 999")
        if not 1 <= self.sync_batch_size <= 1000:
            raise ValueError("RECOMMERCE_SYNC_BATCH_SIZE is between 1 and 1000")
        if not 0 <= self.sync_feed_wait_s <= 30:
            raise ValueError("RECOMMERCE_SYNC_FEED_WAIT_S is between 0 and 30")
        if any(not 0 <= p <= 1000 for p in self.buy_offer_override_percent.values()):
            raise ValueError("RECOMMERCE_BUY_OFFER_OVERRIDE_PERCENT values are between 0 and 1000")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'store.db').resolve()}"

    @property
    def effective_fiscal_key_path(self) -> Path:
        return self.fiscal_key_path or self.data_dir / "fiscal-ed25519.pem"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cash_split_window(self) -> timedelta:
        return timedelta(hours=self.cash_split_window_hours)

    @property
    def precious_metal_hold(self) -> timedelta:
        return timedelta(hours=self.precious_metal_hold_hours)

    @property
    def offer_override_bounds(self) -> OverrideBounds:
        return OverrideBounds(dict(self.buy_offer_override_percent))
