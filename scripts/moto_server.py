"""moto's server, as `moto_server` runs it, with one change: DynamoDB requests are served
one at a time.

moto serves requests on parallel threads, and when a TransactWriteItems fails a
condition it puts back a copy of the whole table taken before that transaction began,
losing whatever other requests wrote meanwhile. DynamoDB itself never does that, so the
tests that race transactions (16 concurrent FOI opens, racing ingests) would see writes
vanish that AWS keeps. S3 and SQS stay concurrent (SQS long polls must not block the
rest).

Usage: python scripts/moto_server.py HOST PORT
"""

import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial_dynamodb(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            with lock:
                # The whole response is made inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(host, port, serial_dynamodb, threaded=True)


if __name__ == "__main__":
    main()
