# The peers' application for bench/http_bench: Gunicorn's side (WSGI).
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/db":
        time.sleep(0.01)  # the 10 ms "database call"
    body = b"Hello, World!\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
