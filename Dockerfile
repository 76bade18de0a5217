# The ERP's web image; the same image runs the Celery worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=erp.settings \
    WEB_CONCURRENCY=2

WORKDIR /app

RUN groupadd --system erp \
    && useradd --system --gid erp --home-dir /app --no-create-home --shell /usr/sbin/nologin erp

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (served by WhiteNoise). The secrets here exist only
# for this build step; the running container must be given its own through the environment.
RUN ENV_FILE=/dev/null DEBUG=0 \
        SECRET_KEY=collectstatic-build-step-only-not-a-real-secret-key-000000000000 \
        SHOP_CREDENTIALS_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
        python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R erp:erp var

USER erp

EXPOSE 8000

# WEB_CONCURRENCY uvicorn worker processes. Behind a TLS-terminating proxy, set FORWARDED_ALLOW_IPS
# (read by uvicorn) to the proxy's address; Django trusts X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER).
CMD ["sh", "-c", "exec uvicorn erp.asgi:application --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY:-2}\" --lifespan off"]
