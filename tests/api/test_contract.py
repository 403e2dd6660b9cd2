"""The API against its own OpenAPI schema: the schema validates, and Schemathesis, fuzzing
every operation through a live server on the loopback, finds no server error and no response
(status, content type, body) that the schema does not describe."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from recognition import services

EXAMPLES_PER_OPERATION = 10
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file",
                 str(tmp_path / "schema.yml"))
    assert "/api/v1/lines/{id}/" in (tmp_path / "schema.yml").read_text()


@pytest.mark.slow
def test_schemathesis_finds_nothing(live_server, transactional_db, user, jpeg_upload,
                                    django_capture_on_commit_callbacks, tmp_path):
    services.note_upload(user=user, files=[jpeg_upload()])  # recognized inline: real ids
    token = Token.objects.create(user=user).key
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(schemathesis), "run", f"{live_server.url}/api/schema/",
         "--header", f"Authorization: Token {token}",
         "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "2026",
         "--phases", "coverage,fuzzing", "--checks", CHECKS,
         # Rotating or revoking the token would log the fuzzer out half-way.
         "--exclude-path-regex", "token/(revoke|rotate)",
         "--no-color", "--generation-database", "none"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    summary = result.stdout[-3000:]
    print(summary)  # the number of cases run, in the test log
    assert result.returncode == 0, summary
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", summary).groups())
    assert generated == passed and generated > 500
