# RareDerm web and worker image: gunicorn serves, Celery works, same code.
FROM node:20-bookworm-slim AS static
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm run build

# psycopg2 is built from source against Debian's libpq, as its authors advise
# for production; the compiler stays in this stage.
FROM python:3.11-slim-bookworm AS wheels
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY pyproject.toml requirements.lock ./
COPY scripts/requirements.py ./scripts/
# The pinned production requirements (scripts/requirements.py), every transitive pin from
# requirements.lock: the same list `make install-production` installs.
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c requirements.lock --no-binary psycopg2 \
      $(python scripts/requirements.py)

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml requirements.lock ./
COPY scripts/requirements.py ./scripts/
COPY --from=wheels /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels -c requirements.lock \
      $(python scripts/requirements.py) && rm -rf /wheels
COPY . .
COPY --from=static /build/static/vendor ./static/vendor
# Static files are collected into the image (/app/staticfiles, owned by root,
# read-only for the app): an upgrade brings its own, never a volume's old ones.
# collectstatic needs settings that production would accept; the real key comes at run time.
RUN DEBUG=false SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only \
    ALLOWED_HOSTS=build python manage.py collectstatic --no-input
RUN useradd --create-home --uid 1000 rarederm && mkdir -p /data && chown rarederm /data
USER rarederm
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "config/gunicorn.py", "--bind", "0.0.0.0:8000"]
