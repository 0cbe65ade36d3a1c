"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import secrets

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from storages.backends.s3 import S3Storage

LAYER_TIMEOUT = 5  # seconds


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip() -> None:
        channel = await layer.new_channel("readyz")
        token = secrets.token_hex(8)
        await layer.send(channel, {"type": "readyz.ping", "token": token})
        message = await layer.receive(channel)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned a different message")

    async def bounded() -> None:
        # A hung Redis must fail the probe, not hang it (and the orchestrator's request).
        await asyncio.wait_for(round_trip(), LAYER_TIMEOUT)

    async_to_sync(bounded)()


def _storage() -> None:
    for alias in ("default", "public"):
        storage = storages[alias]
        if isinstance(storage, S3Storage):
            # Asking for a missing object answers a plain "no" even when the bucket is gone;
            # the bucket itself must answer (and the keys must be good for it).
            storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
        else:
            storage.exists("readyz-probe")


CHECKS = {"database": _database, "channel_layer": _channel_layer, "storage": _storage}


@never_cache
@require_GET
def readyz(request) -> JsonResponse:
    failing = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            failing[name] = f"{type(exc).__name__}: {exc}"[:200]
    if failing:
        response = JsonResponse(
            {
                "status": "unavailable",
                "failing": sorted(failing),
                "error": {
                    "code": "SERVICE_UNAVAILABLE",
                    "message": "Not ready: " + ", ".join(sorted(failing)),
                    "details": failing,
                },
            },
            status=503,
        )
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": "ok", "checks": sorted(CHECKS)})
