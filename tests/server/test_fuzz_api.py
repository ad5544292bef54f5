"""Property-based fuzzing of every endpoint over the app's own OpenAPI schema (schemathesis): no input, valid or
not, anonymous or signed in, yields a 5xx (issue 9, item 11). Runs against the real app on the session's Postgres
through the ASGI transport; bounded to a few dozen examples per operation and mode so it stays well under a minute.

Before the typed request models, this found the reported 500s (enroll with a non-UUID device_id or `name: {}`,
`format_version: "abc"`, revoke of a non-UUID, pull with an unknown table).
"""
from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from sync_server import testing
from sync_server.app import create_app

PATIENT = uuid.uuid4()
# Each generated request is sent as nobody, as a patient and as an admin (valid test tokens): most of the surface
# lies behind authentication.
CALLERS = [{}, testing.auth(PATIENT, "patient"), testing.auth(PATIENT, "admin")]


def _operations() -> list[tuple[str, str, GenerationMode]]:
    """(method, path, mode) for every operation; negative only where there is a schema to violate (parameters or a
    JSON body: a changeset is any bytes)."""
    # Listing the operations needs only the schema: an app on an unused URL does no I/O until a request.
    app = create_app(testing.settings_for("postgresql://unused@127.0.0.1:1/none"))
    out = []
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            out.append((method.upper(), path, GenerationMode.POSITIVE))
            if op.get("parameters") or "application/json" in op.get("requestBody", {}).get("content", {}):
                out.append((method.upper(), path, GenerationMode.NEGATIVE))
    return out


@pytest.fixture(scope="module")
def api_schema(pg_url, tmp_path_factory):
    app = create_app(testing.settings_for(pg_url, data_dir=tmp_path_factory.mktemp("fuzz-server")))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    app.state.db.close()


def test_every_operation_is_fuzzed(api_schema):
    fuzzed = {(method, path) for method, path, _ in _operations()}
    assert {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()} == fuzzed
    assert len(fuzzed) >= 7


# schemathesis' negative generator draws from the `random` module inside its strategies, which Hypothesis flags
# with a deprecation warning (an upstream matter; the warning is about reproducibility, not about our API).
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
@pytest.mark.parametrize(("method", "path", "mode"), _operations(), ids=lambda v: getattr(v, "value", v))
def test_no_input_yields_a_server_error(api_schema, method, path, mode):
    operation = api_schema[path][method]

    # schemathesis' pytest integration (from_fixture) does not run under pytest 9, so the cases come from the
    # operation's own Hypothesis strategy: the same generator, valid (positive) and schema-violating (negative).
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        for headers in CALLERS:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()
