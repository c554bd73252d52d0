"""Responses built where the endpoint runs."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """The model as JSON, serialised in the endpoint's own thread. FastAPI validates a returned
    model again against `response_model`, and for a synchronous endpoint does so on a second
    trip to a worker thread; a returned Response skips both (the till's hot path). The route
    keeps `response_model` for its OpenAPI description."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
