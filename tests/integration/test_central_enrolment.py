"""Central's store registry and enrolment: a one-time code for a store's own credential."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from helpers import enrol, enrolment_code

from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.stores import store_for_credential
from recommerce.clock import FixedClock
from recommerce.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION


def _register(client: TestClient, admin: dict[str, str], number: int = 7) -> str:
    return enrolment_code(client, admin, number)


def _enrol(client: TestClient, number: int, code: str) -> tuple[int, dict]:
    response = enrol(client, number, code)
    return response.status_code, response.json()


def test_a_store_exchanges_its_code_for_its_own_credential(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    code = _register(central_client, central_admin)
    status, body = _enrol(central_client, 7, code.lower().replace("-", " "))
    assert status == 201, body
    assert body["credential"].startswith("rcs_007_")
    with central.reading() as conn:
        assert store_for_credential(conn, body["credential"]) == 7
    stores = central_client.get("/api/v1/stores", headers=central_admin).json()
    assert stores[0]["enrolled_at"] is not None


def test_an_enrolment_code_works_once(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    code = _register(central_client, central_admin)
    assert _enrol(central_client, 7, code)[0] == 201
    status, body = _enrol(central_client, 7, code)
    assert status == 403
    assert body["code"] == "enrolment_code_invalid"


def test_an_enrolment_code_of_another_store_is_refused(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    code = _register(central_client, central_admin, number=7)
    _register(central_client, central_admin, number=8)
    status, body = _enrol(central_client, 8, code)
    assert (status, body["code"]) == (403, "enrolment_code_invalid")
    assert _enrol(central_client, 7, code)[0] == 201  # refused attempts do not use the code


def test_an_expired_enrolment_code_is_refused(
    central_client: TestClient, central_admin: dict[str, str], clock: FixedClock
) -> None:
    code = _register(central_client, central_admin)
    clock.advance(timedelta(days=8))
    assert _enrol(central_client, 7, code)[0] == 403


def test_enrolling_again_revokes_the_previous_credential(
    central_client: TestClient, central_admin: dict[str, str], central: CentralNode
) -> None:
    first = _enrol(central_client, 7, _register(central_client, central_admin))[1]["credential"]
    code = central_client.post("/api/v1/stores/7/enrolment-codes", headers=central_admin)
    second = _enrol(central_client, 7, code.json()["code"])[1]["credential"]
    with central.reading() as conn:
        assert store_for_credential(conn, first) is None
        assert store_for_credential(conn, second) == 7


def test_only_an_admin_registers_stores(central_client: TestClient) -> None:
    response = central_client.post(
        "/api/v1/stores", json={"number": 7, "name": "Lyon", "city": "Lyon"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_store_number_is_registered_once(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    _register(central_client, central_admin)
    response = central_client.post(
        "/api/v1/stores",
        json={"number": 7, "name": "Autre", "city": "Paris"},
        headers=central_admin,
    )
    assert response.status_code == 409


def test_an_unknown_time_zone_is_refused(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    response = central_client.post(
        "/api/v1/stores",
        json={"number": 9, "name": "X", "city": "Y", "timezone": "Mars/Olympus"},
        headers=central_admin,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "timezone"


def test_a_store_too_old_for_central_cannot_enrol_and_keeps_its_code(
    central_client: TestClient, central_admin: dict[str, str]
) -> None:
    code = _register(central_client, central_admin)
    response = central_client.post(
        "/api/v1/sync/enrol",
        json={"store_number": 7, "code": code},
        headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION - 2)},
    )
    assert response.status_code == 426
    assert response.json()["code"] == "protocol_too_old"
    assert _enrol(central_client, 7, code)[0] == 201
