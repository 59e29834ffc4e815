"""Structured license data ("一张表") over HTTP, on SQLite and PostgreSQL: issuers push
surface fields with the file, checked against the type's declaration; a using department
gets only the fields it asks for and is permitted, as a JWS signed by the vault that
verifies offline with the trust bundle; the values are sealed at rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.conftest import HOLDER, Api
from tests.vault.licenses import CITIZEN_TYPE, HOUSING_DEPT
from vault.services.field_catalog import declare_field, permit_fields

USE = {"purpose": "公租房资格审核", "case_no": "FZ-2026-0042"}
FIELDS = {
    "holder_name": "张三",
    "sex": "男",
    "birth_date": "1949-12-31",
    "address": "福建省福州市鼓楼区东街 88 号",
    "id_number": HOLDER,
}


@pytest.fixture
def fielded(api: Api) -> Api:
    """CITIZEN_TYPE declares five fields; housing may read name, sex and birth date."""
    with api.ctx.sessions() as session:
        declare_field(
            session=session, type_code=CITIZEN_TYPE, name="holder_name", label="姓名",
            kind="string", max_length=50, required=True,
        )  # fmt: skip
        declare_field(
            session=session, type_code=CITIZEN_TYPE, name="sex", label="性别",
            kind="enum", choices=["男", "女"],
        )  # fmt: skip
        declare_field(
            session=session, type_code=CITIZEN_TYPE, name="birth_date", label="出生日期",
            kind="date",
        )  # fmt: skip
        declare_field(
            session=session, type_code=CITIZEN_TYPE, name="address", label="住址",
            kind="string", max_length=100,
        )  # fmt: skip
        declare_field(
            session=session, type_code=CITIZEN_TYPE, name="id_number", label="公民身份号码",
            kind="id_number",
        )  # fmt: skip
        permit_fields(
            session=session, department_id=api.departments["housing"], type_code=CITIZEN_TYPE,
            names=["holder_name", "sex", "birth_date"],
        )  # fmt: skip
        session.commit()
    return api


def _push(api: Api, n: int, fields: dict[str, Any]) -> Any:
    from tests.vault.licenses import license_pdf, metadata

    return api.client.post(
        "/v1/licenses",
        headers=api.dept("market"),
        files={"pdf": (f"license-{n}.pdf", license_pdf(n), "application/pdf")},
        data={"metadata": metadata(n).model_dump_json(), "fields": json.dumps(fields)},
    )


def _ask(api: Api, license_id: str, names: list[str], dept: str = "housing") -> Any:
    return api.client.post(
        f"/v1/licenses/{license_id}/fields", headers=api.dept(dept), json={"fields": names, **USE}
    )


def test_a_department_gets_only_the_fields_it_asked_for(fielded: Api, tmp_path: Path) -> None:
    api = fielded
    r = _push(api, 1, FIELDS)
    assert r.status_code == 201, r.text
    license_id = r.json()["license"]["id"]
    r = _ask(api, license_id, ["holder_name", "birth_date"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fields"] == {"holder_name": "张三", "birth_date": "1949-12-31"}
    from signing.credentials.fields import read_fields_token

    key = api.ctx.credential_key.get()
    assert key is not None
    answer = read_fields_token(body["jws"], trusted_keys=[key.public_jwk()])
    assert answer.fields == {"holder_name": "张三", "birth_date": "1949-12-31"}
    assert (answer.license_id, answer.case_no, answer.purpose, answer.status) == (
        license_id, USE["case_no"], USE["purpose"], "有效",
    )  # fmt: skip
    assert body["license_status"] == "有效"
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    used = [(e["action"], e["outcome"], e["case_no"]) for e in log]
    assert ("fields", "allowed", USE["case_no"]) in used
    assert all(e["log_index"] is not None for e in log)


def test_the_jws_verifies_offline_with_the_trust_bundle(fielded: Api, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from signing.trust import TrustBundle
    from tests.vault.licenses import trust_bundle
    from vault.cli import build_app

    api = fielded
    license_id = _push(api, 1, FIELDS).json()["license"]["id"]
    token = _ask(api, license_id, ["sex"]).json()["jws"]
    key = api.ctx.credential_key.get()
    assert key is not None
    bundle = TrustBundle(roots=trust_bundle().roots, credential_keys=(key.public_jwk(),))
    (tmp_path / "bundle.json").write_bytes(bundle.dump())
    (tmp_path / "answer.jws").write_text(token)
    args = ["fields", "verify", str(tmp_path / "answer.jws"), "--trust"]
    result = CliRunner().invoke(build_app(), [*args, str(tmp_path / "bundle.json"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["fields"] == {"sex": "男"}
    head, payload, signature = token.split(".")
    forged = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    (tmp_path / "answer.jws").write_text(f"{head}.{forged}.{signature}")
    result = CliRunner().invoke(build_app(), [*args, str(tmp_path / "bundle.json")])
    assert result.exit_code == 1 and "NOT VALID" in result.output
    other = TrustBundle(roots=trust_bundle().roots, credential_keys=())
    (tmp_path / "empty.json").write_bytes(other.dump())
    (tmp_path / "answer.jws").write_text(token)
    result = CliRunner().invoke(build_app(), [*args, str(tmp_path / "empty.json")])
    assert result.exit_code == 2


def test_a_field_outside_the_permission_is_refused(fielded: Api) -> None:
    api = fielded
    license_id = _push(api, 1, FIELDS).json()["license"]["id"]
    r = _ask(api, license_id, ["holder_name", "address", "id_number"])
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "address" in r.json()["detail"] and "id_number" in r.json()["detail"]
    assert "张三" not in r.text and "福州" not in r.text.replace(USE["purpose"], "")
    log = api.client.get("/v1/me/access-log", headers=api.holder()).json()["entries"]
    assert ("fields", "denied") in [(e["action"], e["outcome"]) for e in log]
    # A department with no permission on the license at all: the one refusal for all.
    assert _ask(api, license_id, ["holder_name"], dept="tax").status_code == 403


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({**FIELDS, "birth_date": "1949-13-31"}, "birth_date"),
        ({**FIELDS, "sex": "未知"}, "sex"),
        ({**FIELDS, "id_number": "110105194912310021"}, "id_number"),
        ({**FIELDS, "address": "长" * 101}, "address"),
        ({**FIELDS, "nickname": "三儿"}, "nickname"),
        ({k: v for k, v in FIELDS.items() if k != "holder_name"}, "holder_name"),
    ],
)
def test_an_invalid_field_at_push_is_refused_naming_it(
    fielded: Api, bad: dict[str, Any], field: str
) -> None:
    api = fielded
    r = _push(api, 1, bad)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["detail"]
    assert field in json.dumps(r.json().get("errors", []), ensure_ascii=False)
    with api.ctx.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM licenses")).scalar_one() == 0


def test_fields_are_encrypted_at_rest(fielded: Api) -> None:
    api = fielded
    license_id = _push(api, 1, FIELDS).json()["license"]["id"]
    with api.ctx.sessions() as session:
        raw = session.execute(text("SELECT sealed FROM license_field_values")).scalar_one()
        row_id = session.execute(
            text("SELECT id FROM licenses WHERE public_id = :p"), {"p": license_id}
        ).scalar_one()
    raw = bytes(raw)
    for value in FIELDS.values():
        assert value.encode() not in raw
    assert "福州".encode() not in raw and b"1949" not in raw
    clear = api.ctx.crypto.decrypt(raw, purpose=f"license-fields:{row_id}")
    assert json.loads(clear)["address"] == FIELDS["address"]


def test_key_rotation_reseals_the_field_values(fielded: Api) -> None:
    """``evault keys rotate`` re-seals field values too: after it, the new key alone reads
    them, and a second run has nothing left to do."""
    from vault.crypto import HolderCrypto, HolderDataError
    from vault.services.license_fields import field_values, reseal_field_values

    api = fielded
    _push(api, 1, FIELDS)
    old = api.ctx.crypto
    new_h, new_b = bytes(range(1, 33)), bytes(range(40, 72))
    rotating = HolderCrypto(
        new_h, new_b, old_holder_keys=(old.holder_key,), old_blind_index_keys=(old.blind_index_key,)
    )
    assert reseal_field_values(sessions=api.ctx.sessions, crypto=rotating) == 1
    assert reseal_field_values(sessions=api.ctx.sessions, crypto=rotating) == 0
    with api.ctx.sessions() as session:
        row_id = session.execute(text("SELECT license_id FROM license_field_values")).scalar_one()
        assert field_values(session, HolderCrypto(new_h, new_b), row_id) == FIELDS
        with pytest.raises(HolderDataError):
            field_values(session, old, row_id)


def test_the_cli_prints_what_the_answer_says(fielded: Api, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from signing.trust import TrustBundle
    from tests.vault.licenses import trust_bundle
    from vault.cli import build_app

    api = fielded
    license_id = _push(api, 1, FIELDS).json()["license"]["id"]
    (tmp_path / "a.jws").write_text(_ask(api, license_id, ["birth_date", "sex"]).json()["jws"])
    key = api.ctx.credential_key.get()
    assert key is not None
    bundle = TrustBundle(roots=trust_bundle().roots, credential_keys=(key.public_jwk(),))
    (tmp_path / "b.json").write_bytes(bundle.dump())
    args = ["fields", "verify", str(tmp_path / "a.jws"), "--trust", str(tmp_path / "b.json")]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"VALID  license {license_id} (type {CITIZEN_TYPE}) for {HOUSING_DEPT},",
        f"  case {USE['case_no']}: {USE['purpose']}; license status 有效",
        "  birth_date: 1949-12-31",
        "  sex: 男",
    ]


def test_the_catalogue_describes_fields_and_their_readers(fielded: Api) -> None:
    from vault.services.field_catalog import describe_fields

    with fielded.ctx.sessions() as session:
        rows = describe_fields(session=session, type_code=CITIZEN_TYPE)
    by_name = {row["name"]: row for row in rows}
    assert sorted(row["name"] for row in rows) == sorted(FIELDS)
    assert by_name["sex"]["choices"] == ["男", "女"] and by_name["sex"]["kind"] == "enum"
    assert by_name["holder_name"]["departments"] == [HOUSING_DEPT]
    assert by_name["address"]["departments"] == [] and by_name["address"]["max_length"] == 100


def test_a_department_lists_the_fields_a_type_declares(fielded: Api) -> None:
    api = fielded
    r = api.client.get(f"/v1/license-types/{CITIZEN_TYPE}/fields", headers=api.dept("housing"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["license_type"] == CITIZEN_TYPE
    fields = {f["name"]: f for f in body["fields"]}
    assert list(fields) == ["holder_name", "sex", "birth_date", "address", "id_number"]
    allowed = {n for n, f in fields.items() if f["may_request"]}
    assert allowed == {"holder_name", "sex", "birth_date"}
    assert fields["sex"]["choices"] == ["男", "女"] and fields["holder_name"]["required"]
    assert HOUSING_DEPT not in r.text  # no department's permission is shown, not even its own
    tax = api.client.get(f"/v1/license-types/{CITIZEN_TYPE}/fields", headers=api.dept("tax"))
    assert tax.status_code == 200
    assert not any(f["may_request"] for f in tax.json()["fields"])
    missing = api.client.get("/v1/license-types/NO_SUCH/fields", headers=api.dept("housing"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    holder = api.client.get(f"/v1/license-types/{CITIZEN_TYPE}/fields", headers=api.holder())
    assert holder.status_code in (401, 403)
