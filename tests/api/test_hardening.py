"""Issue 14: what an attacker or a fault could get out of the API, and no longer does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import HOLDER, OTHER_HOLDER, TAX_DEPT, Api
from tests.helpers.pki import MARKET_DEPT, PUBLIC_SECURITY_DEPT
from tests.vault.licenses import POLICE_TYPE, license_pdf, metadata
from tests.vault.test_blobs import s3_endpoint  # noqa: F401
from tests.web.conftest import csrf_of, login

PROBLEM = "application/problem+json"
DEMO_HOLDER = "11010519491231002X"  # demo holder 0 (张三), whom the demo login signs in


def _push_as(api: Api, department: str, pdf: bytes, **overrides: object) -> object:
    meta = metadata(1, **overrides)
    return api.client.post(
        "/v1/licenses",
        headers=api.dept(department),
        files={"pdf": ("x.pdf", pdf, "application/pdf")},
        data={"metadata": meta.model_dump_json()},
    )


# Finding 1: de-duplication told another department that a file is stored, and its record.
@pytest.mark.parametrize(
    "overrides",
    [
        # not the 颁发机构 the metadata names (market's type and code)
        {},
        # its own type and code: may issue, but the bytes are another issuer's license
        {
            "type_code": POLICE_TYPE,
            "issuer_code": PUBLIC_SECURITY_DEPT,
            "issuer_name": "福州市公安局",
            "number": "闽榕居0001",
        },
    ],
    ids=["issuer_mismatch", "other_issuers_bytes"],
)
def test_pushing_another_issuers_stored_bytes_learns_nothing(
    api: Api, overrides: dict[str, object]
) -> None:
    stored = api.push(1)
    assert stored.status_code == 201, stored.text

    duplicate = _push_as(api, "police", license_pdf(1), **overrides)
    fresh = _push_as(api, "police", license_pdf(2), **overrides)  # never stored

    assert duplicate.status_code == fresh.status_code == 422, duplicate.text
    assert duplicate.headers["content-type"] == PROBLEM

    def refusal(answer: dict[str, object]) -> dict[str, object]:
        return {k: answer[k] for k in ("type", "title", "status", "detail", "reason")}

    assert refusal(duplicate.json()) == refusal(fresh.json())
    assert "张三" not in duplicate.text and "license" not in duplicate.json()


def test_the_issuer_pushing_its_stored_bytes_again_gets_its_record(api: Api) -> None:
    first = api.push(1)
    again = _push_as(api, "market", license_pdf(1), issuer_code=MARKET_DEPT)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["license"]["id"] == first.json()["license"]["id"]


# Finding 3: a missing blob put the blob folder's absolute path in the answer.
def _blob_path(api: Api, sha256: str) -> Path:
    root: Path = api.ctx.blobs.root  # type: ignore[attr-defined]
    return root / sha256[:2] / sha256[2:4] / sha256


def test_a_missing_blob_answers_without_any_path(api_sqlite: Api) -> None:
    api = api_sqlite
    pushed = api.push(1).json()
    _blob_path(api, pushed["license"]["sha256"]).unlink()
    root = str(api.ctx.blobs.root)  # type: ignore[attr-defined]

    r = api.client.get(f"/v1/me/licenses/{pushed['license']['id']}/pdf", headers=api.holder())
    assert r.status_code >= 500, r.text
    assert r.headers["content-type"] == PROBLEM
    assert root not in r.text and "/" not in r.json()["detail"]
    assert r.json()["type"] == "urn:evault:problem:blob-missing"


def test_a_missing_blob_page_shows_no_path(api_sqlite: Api) -> None:
    api = api_sqlite
    pushed = api.push(1, holder_id=DEMO_HOLDER).json()
    _blob_path(api, pushed["license"]["sha256"]).unlink()
    root = Path(api.ctx.blobs.root)  # type: ignore[attr-defined]
    login(api.client)
    r = api.client.get(f"/me/licenses/{pushed['license']['id']}/pdf")
    assert r.status_code >= 500
    assert str(root) not in r.text and str(root.parent) not in r.text
    assert "blob" not in r.text


def test_readyz_is_503_when_the_local_blob_folder_is_broken(api_sqlite: Api) -> None:
    api = api_sqlite
    assert api.client.get("/readyz").status_code == 200
    root: Path = api.ctx.blobs.root  # type: ignore[attr-defined]
    (root / "tmp").rmdir()
    (root / "tmp").write_bytes(b"")  # where writes begin is no folder: no blob can be stored
    r = api.client.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json() == {"status": "unavailable", "database": True, "blob_store": False}


def test_readyz_is_503_when_the_blob_folder_is_gone(api_sqlite: Api) -> None:
    import shutil

    api = api_sqlite
    root: Path = api.ctx.blobs.root  # type: ignore[attr-defined]
    shutil.rmtree(root)
    r = api.client.get("/readyz")
    assert r.status_code == 503, r.text
    assert r.json()["blob_store"] is False


def _app_with_blobs(api: Api, blobs: object, data_dir: Path) -> TestClient:
    """Another app on the same database, with ``blobs`` as its blob store."""
    vault = SimpleNamespace(
        engine=api.ctx.engine,
        sessions=api.ctx.sessions,
        crypto=api.ctx.crypto,
        verifier=api.ctx.verifier.get(),
        blobs=blobs,
    )
    settings = api.ctx.settings.model_copy(update={"data_dir": data_dir})
    return TestClient(create_app(settings, vault=vault))


@pytest.mark.s3
def test_readyz_is_503_when_the_s3_store_is_unreachable_or_has_no_bucket(
    api_sqlite: Api,
    s3_endpoint: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from vault.blobs.s3 import S3BlobStore

    def store(endpoint: str, bucket: str, create: bool) -> S3BlobStore:
        return S3BlobStore(
            endpoint=endpoint,
            access_key="testing",
            secret_key="testing",
            bucket=bucket,
            secure=False,
            region="us-east-1",
            create_bucket=create,
        )

    with _app_with_blobs(api_sqlite, store(s3_endpoint, "evault-ready", True), tmp_path) as c:
        assert c.get("/readyz").status_code == 200
    for endpoint, bucket in ((s3_endpoint, "never-made"), ("127.0.0.1:9", "evault")):
        blobs = store(endpoint, bucket, False)
        with _app_with_blobs(api_sqlite, blobs, tmp_path) as client:
            r = client.get("/readyz")
        assert r.status_code == 503, (endpoint, bucket, r.text)
        assert r.json() == {"status": "unavailable", "database": True, "blob_store": False}


# Finding 5: JSON answers with personal data could be cached and content-sniffed.
def test_every_api_answer_is_no_store_and_nosniff(api_sqlite: Api) -> None:
    api = api_sqlite
    pushed = api.push(1).json()
    license_id = pushed["license"]["id"]
    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-1"}
    copy = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=use
    )
    assert copy.status_code == 201, copy.text
    answers = {
        "my licenses": api.client.get("/v1/me/licenses", headers=api.holder()),
        "search": api.client.post(
            "/v1/licenses/search", headers=api.dept("housing"), json={"holder_id": HOLDER, **use}
        ),
        "read": api.client.get(
            f"/v1/licenses/{license_id}", headers=api.dept("housing"), params=use
        ),
        "access log": api.client.get("/v1/me/access-log", headers=api.holder()),
        "grants": api.client.get("/v1/me/grants", headers=api.holder()),
        "copy": copy,
        "copy status": api.client.get(f"/v1/copies/{copy.json()['id']}/status"),
        "my pdf": api.client.get(f"/v1/me/licenses/{license_id}/pdf", headers=api.holder()),
        "copy pdf": api.client.get(
            f"/v1/copies/{copy.json()['id']}/pdf", headers=api.dept("housing")
        ),
        "403": api.client.get(f"/v1/licenses/{license_id}", headers=api.dept("tax"), params=use),
        "401": api.client.get("/v1/me/licenses"),
        "404": api.client.get("/v1/nothing"),
        "422": api.client.post("/v1/licenses/search", headers=api.dept("housing"), json={}),
        "readyz": api.client.get("/readyz"),
    }
    for what, r in answers.items():
        assert r.headers.get("cache-control") == "no-store", (what, r.status_code)
        assert r.headers.get("x-content-type-options") == "nosniff", (what, r.status_code)


# Finding 7: PATCH status told an existing license (403) from a missing one (404); ids counted.
def test_status_change_of_another_issuers_license_is_the_same_404_as_a_missing_one(
    api: Api,
) -> None:
    license_id = api.push(1).json()["license"]["id"]
    change = {"status": "吊销", "reason": "not ours"}
    theirs = api.client.patch(
        f"/v1/licenses/{license_id}/status", headers=api.dept("police"), json=change
    )
    missing_id = "l_" + "A" * 22 if license_id != "l_" + "A" * 22 else "l_" + "B" * 22
    missing = api.client.patch(
        f"/v1/licenses/{missing_id}/status", headers=api.dept("police"), json=change
    )
    assert theirs.status_code == missing.status_code == 404, theirs.text
    assert theirs.headers["content-type"] == PROBLEM
    for key in ("type", "title", "status", "detail"):
        assert theirs.json()[key] == missing.json()[key], key
    assert license_id not in theirs.json()["detail"]


def test_license_ids_are_opaque_everywhere(api_sqlite: Api) -> None:
    api = api_sqlite
    ids = [api.push(n).json()["license"]["id"] for n in (1, 2, 3)]
    for license_id in ids:
        assert isinstance(license_id, str) and len(license_id) >= 22, license_id
        assert not license_id.isdigit()
    assert len(set(ids)) == 3
    # the internal row ids (1, 2, 3) open nothing
    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-2"}
    for row_id in ("1", "2", "3"):
        assert api.client.get(f"/v1/me/licenses/{row_id}/pdf", headers=api.holder()).status_code
        assert (
            api.client.get(
                f"/v1/licenses/{row_id}", headers=api.dept("housing"), params=use
            ).status_code
            == 403
        )
    read = api.client.get(f"/v1/licenses/{ids[0]}", headers=api.dept("housing"), params=use)
    assert read.status_code == 200 and read.json()["id"] == ids[0]
    copy = api.client.post(f"/v1/licenses/{ids[0]}/copies", headers=api.dept("housing"), json=use)
    assert copy.status_code == 201 and copy.json()["license_id"] == ids[0]
    mine = api.client.post(
        f"/v1/me/licenses/{ids[1]}/copies", headers=api.holder(), json={"purpose": "自用"}
    )
    assert mine.status_code == 201 and mine.json()["license_id"] == ids[1]
    changed = api.client.patch(
        f"/v1/licenses/{ids[2]}/status",
        headers=api.dept("market"),
        json={"status": "暂扣", "reason": "检查"},
    )
    assert changed.status_code == 200 and changed.json()["license_id"] == ids[2]
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    logged = {e["license_id"] for e in log if e["license_id"] is not None}
    assert logged and logged <= set(ids)
    listed = api.client.get("/v1/me/licenses", headers=api.holder()).json()["licenses"]
    assert sorted(lic["id"] for lic in listed) == sorted(ids)


# Finding 2: logout left the session cookie working; sessions never ended on idle.
def test_logout_ends_the_session_at_once(api: Api) -> None:
    license_id = api.push(1, holder_id=DEMO_HOLDER).json()["license"]["id"]
    client = api.client
    login(client)
    cookie = client.cookies.get("evault_session")
    assert cookie
    assert client.get("/me", follow_redirects=False).status_code == 200
    token = csrf_of(client.get("/me").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # the old cookie, replayed (stolen, or kept by a shared browser), opens nothing
    client.cookies.clear()
    client.cookies.set("evault_session", cookie)
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = client.get(f"/me/licenses/{license_id}/pdf", follow_redirects=False)
    assert r.status_code == 303 and not r.content.startswith(b"%PDF")
    assert "张三" not in client.get("/").text  # the home page no longer greets the holder


def test_a_session_ends_after_its_idle_time(api_sqlite: Api) -> None:
    from sqlalchemy import text

    api = api_sqlite
    client = api.client
    login(client)
    assert client.get("/me", follow_redirects=False).status_code == 200
    idle = api.ctx.settings.web_session_idle_seconds
    with api.ctx.engine.begin() as conn:  # the holder went away: last seen long enough ago
        conn.execute(
            text("UPDATE web_sessions SET last_seen_at = :then"),
            {"then": dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=idle + 1)},
        )
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    login(client)  # a new login works again
    assert client.get("/me", follow_redirects=False).status_code == 200


# Finding 8: a retried or doubled creating call could act twice; now an Idempotency-Key
# makes the same call from the same caller answer what the first one answered.
def _key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": f"test-{name}"}


def test_an_idempotent_push_answers_the_first_answer_again(api: Api) -> None:
    def push(key: str, n: int = 1) -> object:
        return api.client.post(
            "/v1/licenses",
            headers={**api.dept("market"), **_key(key)},
            files={"pdf": ("license-1.pdf", license_pdf(n), "application/pdf")},
            data={"metadata": metadata(n).model_dump_json()},
        )

    first = push("push-1")
    again = push("push-1")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.json()["created"] is True
    assert again.headers.get("idempotency-replayed") == "true"
    other = push("push-1", n=2)  # the same key with another body
    assert other.status_code == 422 and other.headers["content-type"] == PROBLEM
    assert other.json()["type"] == "urn:evault:problem:idempotency-key-reused"


def test_an_idempotent_grant_is_made_once_for_its_caller(api: Api) -> None:
    api.push(1)
    api.push(2, holder_id=OTHER_HOLDER)
    body = {"department_code": TAX_DEPT, "uses": 2}
    first = api.client.post("/v1/me/grants", headers={**api.holder(), **_key("g")}, json=body)
    again = api.client.post("/v1/me/grants", headers={**api.holder(), **_key("g")}, json=body)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json() == first.json()
    # the same key from another holder is that holder's own key
    theirs = api.client.post(
        "/v1/me/grants", headers={**api.holder(OTHER_HOLDER), **_key("g")}, json=body
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    mine = api.client.get("/v1/me/grants", headers=api.holder()).json()["grants"]
    assert [g["id"] for g in mine] == [first.json()["id"]]
    changed = api.client.post(
        "/v1/me/grants", headers={**api.holder(), **_key("g")}, json={**body, "uses": 3}
    )
    assert changed.status_code == 422
    assert changed.json()["type"] == "urn:evault:problem:idempotency-key-reused"


def test_two_identical_idempotent_requests_at_once_act_once(api: Api) -> None:
    from tests.vault.together import run_together

    license_id = api.push(1).json()["license"]["id"]
    body = {"department_code": TAX_DEPT}
    grants = run_together(
        2,
        lambda _: api.client.post(
            "/v1/me/grants", headers={**api.holder(), **_key("together")}, json=body
        ),
    )
    assert [r.status_code for r in grants] == [201, 201], grants[0].text
    assert grants[0].json() == grants[1].json()
    assert len(api.client.get("/v1/me/grants", headers=api.holder()).json()["grants"]) == 1

    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-9"}
    copies = run_together(
        2,
        lambda _: api.client.post(
            f"/v1/licenses/{license_id}/copies",
            headers={**api.dept("housing"), **_key("copy")},
            json=use,
        ),
    )
    assert [r.status_code for r in copies] == [201, 201], copies[0].text
    assert copies[0].json() == copies[1].json() and copies[0].json()["reused"] is False


# Finding 6: the OpenAPI document must say what the API does; schemathesis checks most of it
# (tests/api/test_schemathesis.py), this checks every method a path does not have.
def test_a_method_a_path_lacks_is_405_with_every_method_it_has(api_sqlite: Api) -> None:
    import re

    client = api_sqlite.client
    paths = client.get("/openapi.json").json()["paths"]
    verbs = ("GET", "POST", "PUT", "PATCH", "DELETE")
    documented = {
        template: {m.upper() for m in item if m.upper() in verbs}
        for template, item in paths.items()
    }
    samples = {"{license_id}": "search", "{copy_id}": "x", "{grant_id}": "g_x"}
    wrong: list[str] = []
    for template in documented:
        url = template
        for name, value in samples.items():
            url = url.replace(name, value)
        # every documented path this URL is (/v1/licenses/search is also {license_id})
        methods = set().union(
            *(
                ms
                for t, ms in documented.items()
                if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)), url)
            )
        )
        for method in set(verbs) - methods:
            r = client.request(method, url)
            allow = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
            if r.status_code != 405 or allow != methods:
                wrong.append(f"{method} {url}: {r.status_code} Allow {sorted(allow)}")
    assert not wrong, wrong


def test_a_search_naming_the_other_kind_of_number_is_the_usual_403(api_sqlite: Api) -> None:
    api = api_sqlite
    api.push(1)
    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-3"}
    asked = {"holder_id": HOLDER, "holder_id_type": "001", **use}  # a 公民身份号码 as "001"
    r = api.client.post("/v1/licenses/search", headers=api.dept("housing"), json=asked)
    unknown = api.client.post(
        "/v1/licenses/search", headers=api.dept("housing"), json={"holder_id": OTHER_HOLDER, **use}
    )
    assert r.status_code == unknown.status_code == 403, r.text
    assert r.json()["detail"] == unknown.json()["detail"]
