"""Staff log in (bearer tokens for the API, a session cookie for the screens), tokens die on
logout and after their lifetime, the admin manages accounts, passwords are argon2 hashes;
and the operations endpoints (health, metrics, OpenAPI) answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from recommerce.store.api.deps import SESSION_COOKIE
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.sync.orders import CENTRAL_STAFF_ID

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"
STAFF = "/api/v1/staff"
NEW_PASSWORD = "un mot de passe assez long"


def token_for(client, username, password=DEMO_PASSWORD):
    response = client.post(TOKEN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def new_staff(**overrides):
    return {
        "username": "jean.vendeur",
        "full_name": "Jean Vendeur",
        "role": "cashier",
        "password": NEW_PASSWORD,
        **overrides,
    }


# --- API login -----------------------------------------------------------------------------


def test_wrong_password_is_refused_with_a_problem_and_a_bearer_challenge(client):
    response = client.post(TOKEN, json={"username": "gerant", "password": "pas le bon"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"
    assert "access_token" not in response.text


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client):
    wrong_password = client.post(TOKEN, json={"username": "gerant", "password": "pas le bon"})
    unknown_user = client.post(TOKEN, json={"username": "personne", "password": "pas le bon"})
    assert unknown_user.status_code == wrong_password.status_code == 401
    assert unknown_user.headers["www-authenticate"] == "Bearer"
    assert unknown_user.json() == wrong_password.json()


def test_token_identifies_the_staff_member(client, clock):
    response = client.post(TOKEN, json={"username": " Gerant ", "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"].startswith((clock.now() + timedelta(hours=12)).date().isoformat())
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() | {"id": None} == {
        "id": None,
        "username": "gerant",
        "full_name": "Gérard Gérant",
        "role": "manager",
        "active": True,
    }


def test_api_refuses_a_made_up_token(client):
    response = client.get(ME, headers=bearer("pas-un-jeton"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_after_logout_the_token_is_refused(client):
    token = token_for(client, "acheteur")
    other = token_for(client, "acheteur")  # another till, another token
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    refused = client.get(ME, headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401
    assert client.get(ME, headers=bearer(other)).status_code == 200


def test_a_token_expires_after_token_ttl_hours(client, node, clock):
    token = token_for(client, "caissier")
    ttl = timedelta(hours=node.settings.token_ttl_hours)
    clock.advance(ttl - timedelta(seconds=1))
    assert client.get(ME, headers=bearer(token)).status_code == 200
    clock.advance(timedelta(seconds=1))
    expired = client.get(ME, headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json()["code"] == "not_authenticated"
    assert client.get(ME, headers=bearer(token_for(client, "caissier"))).status_code == 200


def test_tokens_and_passwords_are_stored_only_as_hashes(client, node):
    token = token_for(client, "gerant")
    with node.engine.connect() as conn:
        hashes = conn.execute(
            select(t.staff.c.username, t.staff.c.password_hash).where(
                t.staff.c.id != CENTRAL_STAFF_ID
            )
        ).all()
        token_rows = conn.execute(select(t.api_tokens)).all()
    assert {username for username, _ in hashes} == {"admin", "gerant", "acheteur", "caissier"}
    for _, password_hash in hashes:
        assert password_hash.startswith("$argon2")
        assert DEMO_PASSWORD not in password_hash
    (row,) = token_rows
    assert row.kind == "bearer"
    assert token not in str(tuple(row))
    assert len(row.token_hash) == 64


# --- staff accounts ------------------------------------------------------------------------


def test_admin_creates_a_staff_account_who_can_then_log_in(client, login, node):
    response = client.post(STAFF, json=new_staff(username="Jean.Vendeur"), headers=login("admin"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "jean.vendeur"
    assert created["full_name"] == "Jean Vendeur"
    assert created["role"] == "cashier"
    assert created["active"] is True

    me = client.get(ME, headers=bearer(token_for(client, "jean.vendeur", NEW_PASSWORD)))
    assert me.json()["id"] == created["id"]
    listed = client.get(STAFF, headers=login("admin")).json()
    assert "jean.vendeur" in [m["username"] for m in listed]
    with node.engine.connect() as conn:
        row = conn.execute(select(t.staff).where(t.staff.c.id == created["id"])).one()
    assert row.password_hash.startswith("$argon2")
    assert NEW_PASSWORD not in row.password_hash
    assert row.created_by == client.get(ME, headers=login("admin")).json()["id"]


def test_a_username_is_taken_only_once(client, login):
    admin = login("admin")
    assert client.post(STAFF, json=new_staff(), headers=admin).status_code == 201
    for username in ("jean.vendeur", "JEAN.VENDEUR", "gerant"):
        response = client.post(STAFF, json=new_staff(username=username), headers=admin)
        assert response.status_code == 409, username
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "username_taken"
        assert response.json()["field"] == "username"


def test_a_short_password_or_a_strange_username_is_refused(client, login, node):
    admin = login("admin")
    short = client.post(STAFF, json=new_staff(password="court"), headers=admin)
    assert short.status_code == 422
    assert short.json()["field"] == "password"
    strange = client.post(STAFF, json=new_staff(username="jean vendeur!"), headers=admin)
    assert strange.status_code == 422
    assert strange.json()["field"] == "username"
    unknown_role = client.post(STAFF, json=new_staff(role="boss"), headers=admin)
    assert unknown_role.status_code == 422
    assert unknown_role.json()["field"] == "role"
    with node.engine.connect() as conn:
        assert len(conn.execute(select(t.staff.c.id).where(t.staff.c.active)).all()) == 4


def test_only_the_admin_manages_staff_accounts(client, login, node):
    for username in ("gerant", "acheteur", "caissier"):
        created = client.post(STAFF, json=new_staff(), headers=login(username))
        assert created.status_code == 403, username
        assert created.json()["code"] == "forbidden"
        assert client.get(STAFF, headers=login(username)).status_code == 403
    assert client.post(STAFF, json=new_staff()).status_code == 401
    with node.engine.connect() as conn:
        assert len(conn.execute(select(t.staff.c.id).where(t.staff.c.active)).all()) == 4


# --- browser session -----------------------------------------------------------------------


def test_login_page_shows_a_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<form method="post" action="/login">' in response.text
    assert 'name="username"' in response.text
    assert 'name="password"' in response.text
    assert "Magasin de Lyon Part-Dieu" in response.text


def test_home_page_sends_a_stranger_to_the_login_page(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_session_login_sets_an_httponly_cookie_and_the_home_page_greets_the_staff_member(
    client,
):
    response = client.post(
        "/login",
        data={"username": "gerant", "password": DEMO_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    assert client.cookies.get(SESSION_COOKIE)

    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "Gérard Gérant" in home.text
    assert "gerant" in home.text


def test_session_login_with_a_wrong_password_shows_the_error(client):
    response = client.post(
        "/login", data={"username": "gerant", "password": "pas le bon"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert "unknown username or wrong password" in response.text
    assert 'role="alert"' in response.text
    assert "set-cookie" not in response.headers
    assert client.cookies.get(SESSION_COOKIE) is None


def test_logout_ends_the_browser_session(client):
    client.post("/login", data={"username": "caissier", "password": DEMO_PASSWORD})
    session = client.cookies.get(SESSION_COOKIE)
    assert session
    assert "Camille Caissier" in client.get("/").text

    response = client.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert response.headers["set-cookie"].startswith(f'{SESSION_COOKIE}=""')
    assert client.cookies.get(SESSION_COOKIE) is None
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"

    client.cookies.set(SESSION_COOKIE, session)  # the old cookie, replayed
    replayed = client.get("/", follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/login"
    assert client.get(ME).status_code == 401


# --- operations ----------------------------------------------------------------------------


def test_health_check_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store_number": 42}


def test_metrics_count_the_http_requests(client):
    assert client.get("/healthz").status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "recommerce_http_requests_total" in response.text
    assert 'recommerce_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in (
        response.text
    )


def test_openapi_document_lists_the_api_and_the_docs_page_answers(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/purchases" in paths
    assert "/api/v1/police-register" in paths
    assert "/api/v1/auth/token" in paths
    assert "/login" not in paths  # the screens are not part of the API
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
