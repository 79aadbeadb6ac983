"""The image's HEALTHCHECK: exit 0 when the site's /healthz answers 200, else 1.

Standard library only, since the image has Python but no curl. It asks the address
gunicorn listens on, read as gunicorn.conf.py reads it: GUNICORN_BIND, else PORT.
"""

import os
import sys
import urllib.error
import urllib.request


def healthz_url() -> str:
    bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
    host, _, port = bind.rpartition(":")
    # A wildcard bind answers on loopback; a specific address only on itself.
    if host in ("", "0.0.0.0", "[::]", "::"):  # noqa: S104 (compared, not bound)
        host = "127.0.0.1"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    url = healthz_url()
    # Straight to gunicorn: a proxy configured in the environment is not in the way.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"{url}: {error}")
        return 1
    print(f"{url}: {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
