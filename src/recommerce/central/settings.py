"""Central's settings, read from RECOMMERCE_CENTRAL_* environment variables (a machine may run a
store node and central side by side without their settings mixing)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CentralSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECOMMERCE_CENTRAL_", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var/central")
    database_url: str | None = None  # default: SQLite in data_dir; PostgreSQL in production
    # Only in a simulated chain (`recommerce sim`): a file holding how far the simulated time
    # runs ahead of real time; every process of the chain reads the same one.
    clock_file: Path | None = None
    enrolment_code_ttl_hours: int = 168  # a store's one-time enrolment code is valid a week
    token_ttl_hours: int = 12  # head-office users' bearer tokens
    max_batch_events: int = 1000  # events in one upstream sync batch (docs/sync-protocol.md)
    feed_retention_events: int = 100_000  # downstream feed rows kept per store
    feed_wait_max_s: float = 30.0  # the longest a feed request is held (long poll)
    log_json: bool = False
    # Where customers reach the storefront: the links in their messages.
    public_url: str = "http://localhost:8000"
    # The marketplace (docs/marketplace.md): a store not heard from for this long has its
    # items shown as "availability being confirmed", and they cannot be paid for.
    store_silence_s: int = 300
    search_index_dir: Path | None = None  # default: data_dir/search
    # Listing photos: files in data_dir/photos by default, or an S3-compatible bucket
    # ("s3://bucket/prefix", with its endpoint for MinIO and other providers).
    photo_store: str | None = None
    photo_store_endpoint: str | None = None
    # An online order whose store has not answered its reservation request by then is
    # cancelled, its payment voided.
    reservation_timeout_s: int = 120

    @model_validator(mode="after")
    def _production_needs_a_database(self) -> CentralSettings:
        if self.environment == "production" and not self.database_url:
            raise ValueError("RECOMMERCE_CENTRAL_DATABASE_URL must be set in production")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'central.db').resolve()}"

    @property
    def effective_search_index_dir(self) -> Path:
        return self.search_index_dir or self.data_dir / "search"

    @property
    def payments_ledger(self) -> Path:
        """The simulated payment provider's own ledger (a real provider keeps its own)."""
        return self.data_dir / "simulated-payments.db"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def enrolment_code_ttl(self) -> timedelta:
        return timedelta(hours=self.enrolment_code_ttl_hours)

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(hours=self.token_ttl_hours)
