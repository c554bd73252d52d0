"""Request and response bodies of central's API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class StoreIn(Strict):
    number: int = Field(ge=0, le=999)
    name: str = Field(min_length=1, max_length=120)
    city: str = Field(min_length=1, max_length=120)
    timezone: str = Field(default="Europe/Paris", min_length=1, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class StoreOut(BaseModel):
    number: int
    name: str
    city: str
    timezone: str
    enrolled_at: datetime | None


class EnrolmentCodeOut(BaseModel):
    store_number: int
    code: str = Field(description="Shown once; the store exchanges it for its own credential")
    expires_at: datetime


class EnrolIn(Strict):
    store_number: int = Field(ge=0, le=999)
    code: str = Field(min_length=1, max_length=40)


class EnrolOut(BaseModel):
    store_number: int
    credential: str = Field(description="The store's own sync credential, shown once")
