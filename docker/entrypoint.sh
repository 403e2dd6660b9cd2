#!/bin/sh
# The container's roles (see the Dockerfile). Each manage.py command runs Django's system
# checks first, so a wrong database, bucket or Redis stops the container with a message.
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --no-input
    python manage.py createcachetable
    exec gunicorn notesite.wsgi --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${NOTES_WEB_WORKERS:-2}" --timeout 120 --access-logfile -
    ;;
  worker)
    exec nice -n 10 python manage.py qcluster
    ;;
  instant)
    export Q_CLUSTER_NAME=instant
    exec nice -n 5 python manage.py qcluster
    ;;
  training)
    export Q_CLUSTER_NAME=training
    exec nice -n 15 python manage.py qcluster
    ;;
  migrate)
    python manage.py migrate --no-input
    exec python manage.py createcachetable
    ;;
  create-bucket)
    exec python - <<'PY'
"""Create the media bucket if it is missing, waiting up to a minute for the store to start."""
import os
import sys
import time

import boto3
from botocore.exceptions import BotoCoreError, ClientError

bucket = os.environ["NOTES_S3_BUCKET"]
client = boto3.client("s3", endpoint_url=os.environ.get("NOTES_S3_ENDPOINT_URL") or None,
                      region_name=os.environ.get("NOTES_S3_REGION") or "us-east-1")
for attempt in range(60):
    try:
        client.head_bucket(Bucket=bucket)
        print(f"bucket {bucket} is there")
        sys.exit(0)
    except ClientError as err:
        if err.response["Error"]["Code"] in {"404", "NoSuchBucket"}:
            client.create_bucket(Bucket=bucket)
            print(f"bucket {bucket} created")
            sys.exit(0)
        raise
    except BotoCoreError as err:
        print(f"waiting for the S3 store: {err}")
        time.sleep(1)
sys.exit(f"the S3 store at {os.environ.get('NOTES_S3_ENDPOINT_URL')} did not answer")
PY
    ;;
  *)
    exec "$@"
    ;;
esac
