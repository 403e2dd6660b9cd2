# One image for every process of the platform; the command picks the role:
#   web      migrate, then gunicorn on :8000 (put a TLS-terminating proxy in front)
#   worker   the recognition cluster (manage.py qcluster)
#   instant  the instant-recognition cluster (Q_CLUSTER_NAME=instant manage.py qcluster)
#   training the personal-model cluster (Q_CLUSTER_NAME=training manage.py qcluster)
#   migrate  migrations and the cache table only (run once before an upgrade)
#   create-bucket  creates NOTES_S3_BUCKET at NOTES_S3_ENDPOINT_URL if missing (compose's MinIO)
# Anything else runs as given (`docker compose run --rm web python manage.py createsuperuser`).
# See docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NOTES_DATA_DIR=/app/var

# OpenCV (headless) still loads GLib.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The CPU build of torch, as on our machines: PyPI's default is a multi-GB CUDA build. Then the
# project's dependencies from pyproject.toml (torch is satisfied already): a layer that only
# changes with them.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"

# The code, run from /app (templates/ and static/ are read beside it), the static files,
# collected at build time and served by WhiteNoise, and the fonts whose rendered lines a
# personal model's fine-tune replays (NOTES_FONTS_DIR).
COPY . .
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin notes \
    && NOTES_SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input \
        --verbosity 0 \
    && python -m ml.synth fonts --dest /app/.cache/fonts \
    && mkdir -p /app/var/media \
    && chown -R notes:notes /app/var \
    && chmod 0755 docker/entrypoint.sh

USER notes
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
