# VideoHost application image: daphne (web + WebSocket) and the background worker.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

# ffmpeg from the distribution: transcoding and probing use the system build in production.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app videohost \
    && mkdir -p /app/var/media && chown -R videohost /app/var

USER videohost
EXPOSE 8000
CMD ["python", "-m", "videohost.server", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers"]
