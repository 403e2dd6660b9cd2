"""Start-up checks of the services the site depends on: the S3 bucket and Redis.

Registered with Django's system checks, so `manage.py check`, `migrate` (which `make run` and
the Docker entrypoint run before anything starts), `runserver` and `qcluster` stop with a
message naming the variable to fix, instead of the first upload failing with a 500.
Each check makes one short network call, and only when its service is configured; boto3
and redis are imported only then, so that processes without them start no slower.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.checks import Error, register
from django.core.files.storage import storages
from django.utils.module_loading import import_string

TAG = "notes_services"
TIMEOUT_S = 3

NO_CREDENTIALS = ("Media storage on S3 (bucket {bucket!r}) has no credentials: set "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.")
NO_ENDPOINT = ("Cannot reach the S3 endpoint {endpoint} for bucket {bucket!r}: {reason}. "
               "Check NOTES_S3_ENDPOINT_URL.")
NO_BUCKET = ("The S3 bucket {bucket!r} does not exist at {endpoint}: create it, or fix "
             "NOTES_S3_BUCKET.")
DENIED = ("Access to the S3 bucket {bucket!r} at {endpoint} was refused ({code}): check "
          "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the key's permissions.")
S3_FAILED = "The S3 bucket {bucket!r} at {endpoint} answered {code}: {reason}."
NO_REDIS = "Cannot reach Redis at {url} (NOTES_REDIS_URL): {reason}."


def _s3_storage():
    """The configured media storage when it is S3, else None."""
    config = settings.STORAGES["default"]
    backend = import_string(config["BACKEND"])
    s3 = sys.modules.get("storages.backends.s3")  # imported with the backend if it is one
    if s3 is None or not issubclass(backend, s3.S3Storage):
        return None
    return storages.create_storage(config)


def _s3_client(storage):
    """A client like the storage's own, but quick to give up."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoCredentialsError

    session = (boto3.Session(profile_name=storage.session_profile) if storage.session_profile
               else boto3.Session(aws_access_key_id=storage.access_key,
                                  aws_secret_access_key=storage.secret_key,
                                  aws_session_token=storage.security_token))
    if session.get_credentials() is None:
        raise NoCredentialsError
    config = storage.client_config.merge(Config(
        connect_timeout=TIMEOUT_S, read_timeout=TIMEOUT_S,
        retries={"mode": "standard", "max_attempts": 1}))
    return session.client("s3", region_name=storage.region_name, use_ssl=storage.use_ssl,
                          endpoint_url=storage.endpoint_url, config=config,
                          verify=storage.verify)


def s3_problem(storage) -> str | None:
    """Why the storage's bucket cannot be used, or None when it answers."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    where = {"bucket": storage.bucket_name, "endpoint": storage.endpoint_url or "AWS S3"}
    try:
        _s3_client(storage).head_bucket(Bucket=storage.bucket_name)
    except NoCredentialsError:
        return NO_CREDENTIALS.format(**where)
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", "?"))
        if code in {"404", "NoSuchBucket"}:
            return NO_BUCKET.format(**where)
        if code in {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}:
            return DENIED.format(code=code, **where)
        return S3_FAILED.format(code=code, reason=str(err).rstrip("."), **where)
    except (BotoCoreError, ValueError) as err:  # no connection, timeout, malformed endpoint
        return NO_ENDPOINT.format(reason=str(err).rstrip("."), **where)
    return None


def redis_problem(url: str) -> str | None:
    """Why Redis at `url` cannot be used, or None when it answers a ping."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_S,
                                      socket_timeout=TIMEOUT_S)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, ValueError) as err:
        return NO_REDIS.format(url=_without_password(url), reason=str(err).rstrip("."))
    return None


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@register(TAG)
def media_storage_check(app_configs=None, **kwargs) -> list[Error]:
    """The S3 bucket for media answers with the configured credentials."""
    storage = _s3_storage()
    problem = storage and s3_problem(storage)
    return [Error(problem, id="notesite.E001")] if problem else []


@register(TAG)
def redis_check(app_configs=None, **kwargs) -> list[Error]:
    """Redis (cache and, with NOTES_BROKER=redis, the broker) answers."""
    problem = settings.REDIS_URL and redis_problem(settings.REDIS_URL)
    return [Error(problem, id="notesite.E002")] if problem else []
