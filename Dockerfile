# RareDerm web and worker image: gunicorn serves, Celery works, same code.
FROM node:20-bookworm-slim AS static
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml requirements.lock ./
# The pinned direct dependencies from pyproject.toml, every transitive pin from requirements.lock.
RUN pip install --no-cache-dir -c requirements.lock \
      $(python -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
COPY . .
COPY --from=static /build/static/vendor ./static/vendor
RUN useradd --create-home --uid 1000 rarederm && mkdir -p /data && chown rarederm /data
USER rarederm
# collectstatic needs settings that production would accept; the real key comes at run time.
RUN DEBUG=false SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only \
    ALLOWED_HOSTS=build python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
