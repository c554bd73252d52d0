"""Schemathesis generates requests from the store's OpenAPI document, valid and invalid alike;
whatever it sends, the store never answers with a server error (5xx)."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from recommerce.store.app import create_app
from recommerce.store.seed import DEMO_PASSWORD

EXAMPLES_PER_OPERATION = 60


def _admin_headers(client) -> dict[str, str]:
    token = client.post(
        "/api/v1/auth/token", json={"username": "admin", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _fuzz(operation, headers: dict[str, str], statuses: Counter[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
        statuses[response.status_code] += 1

    fuzz()


def test_store_api_never_answers_a_server_error(node, client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(node))
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        # As the admin, every operation is reached past the permission checks; a fresh token
        # per operation, since one of them is the logout that revokes it.
        headers = _admin_headers(client)

        try:
            _fuzz(operation, headers, statuses)
        except Exception as exc:  # collect every failing operation before reporting
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The fuzzing went past authentication into the handlers, not only into 401s.
    assert sum(n for status, n in statuses.items() if status not in (401, 403)) > statuses[401]
