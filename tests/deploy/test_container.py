"""The container set-up, read without a Docker engine: compose.yaml's services and their
wiring, the Dockerfile, and the entrypoint's roles (run here, on the loopback S3 server)."""

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from packaging.specifiers import SpecifierSet

from tests.deploy.conftest import ROOT, S3_KEYS

APP_SERVICES = {"create-bucket", "migrate", "web", "worker", "instant", "training"}
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def variables_read_by(path) -> set[str]:
    text = (ROOT / path).read_text()
    return set(re.findall(r"\b(NOTES_[A-Z0-9_]+|DATABASE_URL|PORT)\b", text))


DOT_ENV = {"NOTES_SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "pg0pass",
           "MINIO_ROOT_PASSWORD": "minio0pass"}  # what .env must give


def app_env(compose) -> dict[str, str]:
    envs = [compose["services"][name]["environment"] for name in APP_SERVICES]
    assert all(env == envs[0] for env in envs), "every app container gets the same settings"
    return envs[0]


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with `env` as the .env file."""
    def one(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(name)
        return rest or ""

    return re.sub(r"\$\{(\w+)(?::([?-])([^}]*))?\}", one, str(value))


def resolved(section: dict, env=DOT_ENV) -> dict[str, str]:
    return {name: interpolate(value, env) for name, value in section.items()}


def test_compose_runs_every_process_from_one_image(compose):
    services = compose["services"]
    assert set(services) == APP_SERVICES | {"db", "redis", "minio"}
    assert {services[name]["image"] for name in APP_SERVICES} == {"notes-digitizer:latest"}
    roles = {name: services[name]["command"] for name in APP_SERVICES}
    assert roles == {name: [name] for name in APP_SERVICES}
    script = ENTRYPOINT.read_text()
    assert all(re.search(rf"^  {name}\)$", script, re.M) for name in APP_SERVICES)


def test_compose_sets_only_variables_the_code_reads(compose):
    known = (variables_read_by("notesite/settings.py") | variables_read_by(ENTRYPOINT)
             | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"})
    assert set(app_env(compose)) - known == set()


def test_compose_wires_the_site_to_its_services_by_name(compose):
    env, services = resolved(app_env(compose)), compose["services"]
    database = urlsplit(env["DATABASE_URL"])
    db_env = resolved(services["db"]["environment"])
    assert (database.hostname, database.username, database.password, database.path) == (
        "db", db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"], f"/{db_env['POSTGRES_DB']}")
    assert urlsplit(env["NOTES_REDIS_URL"]).hostname == "redis"
    endpoint = urlsplit(env["NOTES_S3_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == ("minio", 9000)
    minio_env = resolved(services["minio"]["environment"])
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio_env["MINIO_ROOT_USER"], minio_env["MINIO_ROOT_PASSWORD"])
    assert (env["NOTES_BROKER"], env["NOTES_DEBUG"]) == ("orm", "0")


def test_compose_needs_exactly_the_secrets_of_the_dot_env_file(compose):
    sections = [compose["services"][name].get("environment", {}) for name in compose["services"]]
    for section in sections:
        resolved(section)  # everything else has a default
    for secret in DOT_ENV:
        without = {k: v for k, v in DOT_ENV.items() if k != secret}
        with pytest.raises(KeyError):
            for section in sections:
                resolved(section, without)


def test_compose_starts_the_site_after_migrations_and_the_bucket(compose):
    services = compose["services"]
    for name in ("web", "worker", "instant"):
        after = services[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully"
        assert after["create-bucket"]["condition"] == "service_completed_successfully"
    # migrate runs the start-up checks, which reach the bucket.
    assert "create-bucket" in services["migrate"]["depends_on"]
    assert services["db"]["healthcheck"] and services["redis"]["healthcheck"]


def test_instant_role_serves_the_instant_cluster():
    script = ENTRYPOINT.read_text()
    role = script[script.index("  instant)"):script.index(";;", script.index("  instant)"))]
    assert "export Q_CLUSTER_NAME=instant" in role and "manage.py qcluster" in role
    assert "instant" in settings.Q_CLUSTER["ALT_CLUSTERS"]


def test_dockerfile_builds_a_cpu_image_that_runs_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["python:3.11-slim"]
    torch = re.search(r"pip install torch==(\S+) --index-url https://download.pytorch.org/whl/cpu",
                      dockerfile)
    wanted = next(dep for dep in _dependencies() if dep.startswith("torch"))
    assert torch and torch.group(1) in SpecifierSet(wanted.removeprefix("torch"))
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "manage.py collectstatic" in dockerfile
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile
    assert os.access(ENTRYPOINT, os.X_OK)


def test_dockerignore_keeps_the_model_and_drops_local_state():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".env", "var", ".cache"} <= ignored
    assert not ignored & {"ml", "ml/weights", "templates", "static", "docker"}


def _dependencies() -> list[str]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess:
    path = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    return subprocess.run(["sh", str(ENTRYPOINT), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PATH": path, **env})


def test_entrypoint_creates_the_bucket_once(s3_endpoint, s3_client):
    env = {**S3_KEYS, "NOTES_S3_BUCKET": "compose-media", "NOTES_S3_ENDPOINT_URL": s3_endpoint}
    try:
        first, second = entrypoint("create-bucket", **env), entrypoint("create-bucket", **env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == "bucket compose-media created"
        assert second.stdout.strip() == "bucket compose-media is there"
        s3_client.head_bucket(Bucket="compose-media")
    finally:
        s3_client.delete_bucket(Bucket="compose-media")


def test_entrypoint_runs_any_other_command():
    result = entrypoint("python", "-c", "print('as given')")
    assert (result.returncode, result.stdout) == (0, "as given\n")


def test_deploy_guide_explains_every_variable_compose_sets(compose):
    guide = (ROOT / "docs" / "deploy.md").read_text()
    missing = {name for name in app_env(compose) if name.startswith("NOTES_")
               and f"`{name}`" not in guide}
    assert missing == set()
