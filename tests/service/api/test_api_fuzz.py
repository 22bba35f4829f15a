"""No request can crash the service: schemathesis fuzzes every operation of its own OpenAPI schema.

For each operation, a bounded number of schema-conforming (positive) and schema-violating
(negative) requests go to the running service, as an instructor and as a student.  Every
answer must be a documented status with a body matching the documented schema (errors
included), and never a 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

EXAMPLES = 6  # per operation, mode and user: enough to reach every error path, small enough to stay fast
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def operations(service):
    schema = schemathesis.openapi.from_url(service.base + "/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def takes_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters")) or "requestBody" in raw


@pytest.mark.parametrize("role", ["instructor", "student"])
def test_fuzz_every_operation(service, users, role):
    token = (users.instructor if role == "instructor" else users.alice).token
    headers = {"Authorization": f"Bearer {token}"}
    ops = operations(service)
    assert len(ops) >= 15
    for operation in ops:
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input(operation) else [])
        for mode in modes:

            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                response = case.call(base_url=service.base, headers=headers, timeout=60)
                case.validate_response(response, checks=CHECKS)

            fuzz()
    assert service.proc.poll() is None, "the service died under fuzzing"
    assert service.api().get("/healthz").status_code == 200
