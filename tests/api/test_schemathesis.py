"""Property-based test of the API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests (valid and invalid), authenticated as a department
with every scope or as a holder where the route is a holder's; no answer may be a server
error, and every answer must match the schema it documents. Bounded: a few examples per
operation, so the whole run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import HOLDER
from tests.vault.licenses import trust_bundle, verifier
from vault.bootstrap import open_vault
from vault.services import catalog
from vault.services.credentials import set_scopes
from vault.settings import load_settings

ALL_SCOPES = frozenset({"licenses:issue", "licenses:use", "audit:read"})


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


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _runner(operation: Any, headers: dict[str, str]) -> Callable[[], None]:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

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

        run = _runner(operation, headers)
        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises FailureGroup
            failures.append(f"{operation.method.upper()} {path}: {str(exc)[:1500]}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
