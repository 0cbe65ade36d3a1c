"""The deployment's nginx site (deploy/nginx/videohost.conf), moved onto loopback.

Tests and benchmarks run the deployment's own locations, not a copy of them: only the
addresses, the media folder and the cache folder change.
"""

from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "videohost.conf"


def loopback_site(
    *, app: str, port: int, checks_port: int, media_root: Path, cache_root: Path
) -> str:
    """The site for an app at `app` (host:port), public on 127.0.0.1:`port`, its media checks
    on 127.0.0.1:`checks_port`; MinIO's location points nowhere (nothing here uses it)."""
    site = CONFIG.read_text()
    replacements = {
        "server web:8000;": f"server {app};",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "127.0.0.1:8081": f"127.0.0.1:{checks_port}",
        "/srv/media/": f"{media_root}/",
        "/var/cache/nginx/media-checks": str(cache_root),
        "http://minio:9000": "http://127.0.0.1:9",
    }
    for old, new in replacements.items():
        if old not in site:
            raise ValueError(f"{CONFIG} no longer has {old!r}: update {__name__}")
        site = site.replace(old, new)
    return site
