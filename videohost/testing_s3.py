"""A real S3 server on loopback for the object-storage tests.

moto's standalone server runs in a child process on a free 127.0.0.1 port: the storages talk
HTTP to it with boto3 exactly as they would to MinIO or AWS, and a test can stop it to see
what a dead store does. Each test gets a fresh bucket set up like docker-compose's
`createbuckets` does for MinIO (anonymous reads under public/ only), and the media storages
switched to it through `settings.STORAGES`.
"""

import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from videohost.settings import storages_for

ACCESS_KEY = "videohost-test"
SECRET_KEY = "videohost-test-secret"  # noqa: S105 - moto accepts any key
REGION = "us-east-1"


def public_read_policy(bucket: str) -> dict:
    """Anyone may GET what is under public/; nothing else is readable without a signature."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicMediaReadable",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/public/*"],
            }
        ],
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class S3Server:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


def s3_server_start(*, timeout: float = 30) -> S3Server:
    """moto's S3 server as a child process on a free loopback port, once it accepts."""
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="videohost-moto-", suffix=".log")[1])
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = S3Server(port=port, process=process, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    message = log.read_text(errors="replace")[-2000:]
    server.stop()
    raise RuntimeError(f"moto's S3 server did not start on port {port}: {message}")


def s3_bucket_create(client, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket)))


def s3_keys(client, bucket: str, prefix: str = "") -> set[str]:
    keys = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {entry["Key"] for entry in page.get("Contents", ())}
    return keys


def s3_bucket_remove(client, bucket: str) -> None:
    for key in s3_keys(client, bucket):
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)


def s3_options(server: S3Server, bucket: str) -> dict:
    """What settings.STORAGE_S3 holds for this server and bucket."""
    return {
        "bucket_name": bucket,
        "endpoint_url": server.endpoint_url,
        "public_endpoint_url": None,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region_name": REGION,
    }


@dataclass
class S3Media:
    """The bucket a test's media storages point at, and a client to look inside it."""

    server: S3Server
    bucket: str
    client: object = field(repr=False)

    def keys(self, prefix: str = "") -> set[str]:
        return s3_keys(self.client, self.bucket, prefix)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback, shared by the session's object-storage tests."""
    server = s3_server_start()
    yield server
    server.stop()


@pytest.fixture
def s3_media(s3_server, settings) -> S3Media:
    """STORAGE_BACKEND=s3 for one test: a fresh bucket, both media storages in it, and
    access-checked bytes leaving as redirects to signed URLs."""
    bucket = f"videohost-test-{secrets.token_hex(4)}"
    client = s3_server.client()
    s3_bucket_create(client, bucket)
    # Assigning STORAGES sends setting_changed: Django drops its cached backends (and
    # default_storage's), videohost.storage drops the public one the file fields hold.
    settings.STORAGES = storages_for(settings.MEDIA_ROOT, s3_options(s3_server, bucket))
    settings.MEDIA_DELIVERY = "redirect"
    settings.SERVE_PUBLIC_MEDIA = False
    yield S3Media(server=s3_server, bucket=bucket, client=client)
    s3_bucket_remove(client, bucket)
