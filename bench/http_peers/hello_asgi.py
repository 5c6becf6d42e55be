# The peers' application for bench/http_bench: Uvicorn's side (ASGI).
import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/db":
        await asyncio.sleep(0.01)  # the 10 ms "database call"
    body = b"Hello, World!\n"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
