"""Property-based test of the API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests (valid and invalid), authenticated as a department
with every scope or as a holder where the route is a holder's, and every check schemathesis
has: no server error; every status, content type, header and body as documented; requests
the schema allows are accepted and those it forbids refused; methods a path does not have
answer 405 with a right ``Allow``; a call without credentials is refused. Bounded:
:data:`EXAMPLES` examples per operation (``EVAULT_SCHEMATHESIS_EXAMPLES`` overrides).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from schemathesis.generation import GenerationMode

from schemas.identifiers import (
    CREDIT_CODE_ALPHABET,
    citizen_id_check_char,
    credit_code_check_char,
    organization_code_check_char,
)
from tests.api.conftest import HOLDER
from tests.vault.licenses import trust_bundle, verifier
from vault.bootstrap import open_vault
from vault.services import catalog
from vault.services.credentials import set_scopes
from vault.settings import load_settings

ALL_SCOPES = frozenset({"licenses:issue", "licenses:use", "audit:read", "materials:deposit"})


@pytest.fixture(scope="module")
def app_and_tokens(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[object, dict[str, str]]]:
    from api.app import create_app

    data = tmp_path_factory.mktemp("schemathesis")
    settings = load_settings(
        mode="demo",
        data_dir=data,
        public_base_url="http://testserver",
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
    )
    opened = open_vault(settings, verifier=verifier(), upgrade=True)
    (data / "trust-bundle.json").write_bytes(trust_bundle().dump())
    with opened.session() as session:
        dept = catalog.create_department(
            session=session,
            name="全能部门",
            credit_code="11350100MB0000035H",
            issuer=True,
            user=True,
        )
        set_scopes(session=session, department_id=dept.id, scopes=ALL_SCOPES)
        dept_id = dept.id
    app = create_app(settings, vault=opened)
    ctx = app.state.ctx
    tokens = {
        "department": ctx.tokens.issue(
            client_id="fuzz", department_id=dept_id, scopes=ALL_SCOPES
        ).access_token,
        "holder": ctx.holders.mint_demo(HOLDER),
    }
    yield app, tokens
    opened.close()


def _holder_ids() -> st.SearchStrategy[str]:
    """Valid 公民身份号码 and 统一社会信用代码: what ``format: holder-id`` promises."""
    citizen = (
        st.tuples(st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)), st.integers(0, 999))
        .map(lambda t: f"110105{t[0]:%Y%m%d}{t[1]:03d}")
        .map(lambda b: b + citizen_id_check_char(b))
    )
    return st.one_of(citizen, _credit_codes())


def _credit_codes() -> st.SearchStrategy[str]:
    """Valid 统一社会信用代码 (both checks): what ``format: credit-code`` promises."""
    organization = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=8, max_size=8)
    body = st.tuples(st.sampled_from(["91", "11", "12", "N1"]), organization).map(
        lambda t: f"{t[0]}350100{t[1]}{organization_code_check_char(t[1])}"
    )
    return body.map(lambda b: b + credit_code_check_char(b))


schemathesis.openapi.format("holder-id", _holder_ids())
schemathesis.openapi.format("credit-code", _credit_codes())
load_all_checks()
#: Every check schemathesis has (the stateful ones do nothing on a single call).
CHECKS = list(REGISTERED_CHECKS.get_all())
EXAMPLES = int(os.environ.get("EVAULT_SCHEMATHESIS_EXAMPLES", "30"))
#: Whether a push is accepted depends on its PDF's seals and on the catalog (who issues
#: which type), which no schema can say: a schema-valid push is refused with 422
#: ``intake-refused`` (documented). Every other check runs on it.
NOT_FOR_PUSHES = {"positive_data_acceptance"}
#: The same holds for a deposit (POST /v1/materials): whether it is taken depends on its
#: file's content and on the material catalogue.
#: Whether a pre-authorized code, an access token or a wallet's proof is good depends on
#: state no schema can say, and OAuth 2.0 answers a bad grant 400 ``invalid_grant``
#: (RFC 6749 5.2): a schema-valid call with a made-up code or proof is refused (documented).
NOT_FOR_WALLET_CALLS = {"positive_data_acceptance"}
#: Whether a certified copy's 加注 can show a caller's purpose, case number or recipient
#: depends on rules no schema can say (the 加注 font's glyphs; no field label, colon, run of
#: white space, control, format or unassigned character: signing.copies.annotation,
#: red team 12 r12-10): a schema-valid request whose text breaks them is refused with 422
#: ``invalid-input`` (documented). Every other check runs on it.
NOT_FOR_COPY_TEXT = {"positive_data_acceptance"}
#: /v1/verify takes any bytes as its one file part (a multipart part has no type: a
#: "number" sent there is a file of digits) and answers a report saying what it is.
NOT_FOR_VERIFY = {"negative_data_rejection"}


def _runner(operation: Any, headers: dict[str, str], mode: GenerationMode) -> Callable[[], None]:
    skipped = {
        ("POST", "/v1/licenses"): NOT_FOR_PUSHES,
        ("POST", "/v1/materials"): NOT_FOR_PUSHES,
        ("POST", "/v1/verify"): NOT_FOR_VERIFY,
        ("POST", "/v1/licenses/{license_id}/copies"): NOT_FOR_COPY_TEXT,
        ("POST", "/v1/me/licenses/{license_id}/copies"): NOT_FOR_COPY_TEXT,
        ("POST", "/v1/materials/{material_id}/copies"): NOT_FOR_COPY_TEXT,
        ("POST", "/v1/me/materials/{material_id}/copies"): NOT_FOR_COPY_TEXT,
        ("POST", "/oid4vci/token"): NOT_FOR_WALLET_CALLS,
        ("POST", "/oid4vci/credential"): NOT_FOR_WALLET_CALLS,
    }.get((operation.method.upper(), operation.path), set())
    checks = [c for c in CHECKS if c.__name__ not in skipped]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    return run  # type: ignore[no-any-return]


def test_api_conforms_to_its_schema(app_and_tokens: tuple[object, dict[str, str]]) -> None:
    app, tokens = app_and_tokens
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        path = operation.path
        who = "holder" if path.startswith("/v1/me") or path == "/v1/departments" else "department"
        headers = {"Authorization": f"Bearer {tokens[who]}"}

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(operation, headers, mode)()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, path
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises FailureGroup
                label = f"{operation.method.upper()} {path} ({mode.value})"
                failures.append(f"{label}: {str(exc)[:1500]}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
