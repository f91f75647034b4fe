"""schemathesis against a running server, with the contract ../shared/openapi.yaml: every
served operation, valid and invalid data; no server error, no response outside the
contract's schemas, no undocumented status code, invalid data refused.

``positive_data_acceptance`` is left out: generated ids are well-formed uuids of nothing,
so 404 (documented) is the right answer where that check wants a 2xx. ``/realtime`` is left
out because a stream does not end; tests/api/test_realtime.py covers it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from aiosmtpd.controller import Controller
from schemathesis.checks import CHECKS
from tests.api.test_contract import CONTRACT, NOT_YET_SERVED

from kilo.api import create_app
from kilo.settings import Settings
from support.api import Mailbox, _free_port

MAX_EXAMPLES = 30

schema = schemathesis.openapi.from_path(CONTRACT)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
)
for method, path in [*NOT_YET_SERVED, ("get", "/realtime")]:
    schema = schema.exclude(method=method.upper(), path=path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    box = Mailbox()
    smtp_port = _free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    settings = Settings(home=tmp_path_factory.mktemp("fuzz") / "home", clip_enabled=False,
                        smtp_host="127.0.0.1", smtp_port=smtp_port,
                        rate_limit_per_min=100_000, workers=1)  # fmt: skip
    app = create_app(settings, run_jobs=False)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        challenge = httpx.post(f"{base}/auth/login", json={"email": "fuzz@example.com"}).json()
        body = {"challengeId": challenge["challengeId"], "code": box.code_for("fuzz@example.com")}
        token = httpx.post(f"{base}/auth/verify", json=body).json()["accessToken"]
        yield base, {"Authorization": f"Bearer {token}"}
    finally:
        srv.should_exit = True
        thread.join(timeout=20)
        smtp.stop()


_EXCLUDED = [c for c in CHECKS.get_all() if c.__name__ == "positive_data_acceptance"]
# Two GETs document only 200 and 401, so a malformed query (limit=500, status=bogus) has no
# documented answer; kilo answers 400 there (EXTRA_STATUSES in test_contract.py).
_NO_ERROR_STATUS = {("GET", "/projects"), ("GET", "/projects/{projectId}/jobs")}
_STATUS_CHECK = [c for c in CHECKS.get_all() if c.__name__ == "status_code_conformance"]


@pytest.mark.slow
@schema.parametrize()
def test_the_server_keeps_the_contract(
    case: schemathesis.Case, server: tuple[str, dict[str, str]]
) -> None:
    base, auth = server
    excluded = list(_EXCLUDED)
    if (case.operation.method.upper(), case.operation.path) in _NO_ERROR_STATUS:
        excluded += _STATUS_CHECK
    case.call_and_validate(base_url=base, headers=auth, excluded_checks=excluded)


def test_the_fuzzer_sees_every_served_operation() -> None:
    served = {(op.method.lower(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    # the contract's 39 operations, less those not built yet, less the stream
    assert len(served) == 39 - len(NOT_YET_SERVED) - 1
    assert ("get", "/projects") in served and ("get", "/realtime") not in served
