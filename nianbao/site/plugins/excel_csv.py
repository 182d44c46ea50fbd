"""CSV for Excel: every CSV export starts with a byte order mark, because Excel in a
zh-CN locale takes UTF-8 without one for GBK and garbles the Chinese."""

from __future__ import annotations

from datasette import hookimpl

BOM = "\ufeff".encode("utf-8")


@hookimpl
def asgi_wrapper(datasette):
    """Every CSV export starts with a byte order mark: Excel in a zh-CN locale takes
    UTF-8 without one for GBK and garbles the Chinese."""
    def wrap(app):
        async def with_bom(scope, receive, send):
            if scope["type"] != "http" or not scope.get("path", "").endswith(".csv"):
                await app(scope, receive, send)
                return
            state = {"csv": False, "first": True}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = dict(message.get("headers", []))
                    state["csv"] = message["status"] == 200 and \
                        headers.get(b"content-type", b"").startswith(b"text/")
                    if state["csv"]:
                        message = {**message, "headers": [
                            (k, str(int(v) + len(BOM)).encode() if k == b"content-length" else v)
                            for k, v in message.get("headers", [])]}
                elif message["type"] == "http.response.body" and state["csv"] and state["first"]:
                    state["first"] = False
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            await app(scope, receive, send_with_bom)

        return with_bom

    return wrap
