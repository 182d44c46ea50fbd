"""`/-/archive/<sha256>`: an archived file, streamed from the content-addressed store with
its own media type and file name; archived HTML under a sandboxing CSP, so that a page's
scripts never run in the archive's origin."""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response

from nianbao.archive import MEDIA_TYPES
from nianbao.store import ContentStore, store_for

_INLINE = {"pdf", "html", "text", "txt", "image"}  # shown in the browser unless ?download=1


@functools.lru_cache(maxsize=None)
def _store(db_path: str):
    """The archive's content store (where its crawls recorded it), opened once."""
    return store_for(db_path)


def _picture_type(served: str | None, url: str) -> str | None:
    served = (served or "").split(";")[0].strip().lower()
    if served in MEDIA_TYPES["image"]:
        return served
    suffix = url.lower().rsplit("?", 1)[0].rsplit(".", 1)[-1]
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
            "bmp": "image/bmp"}.get(suffix)


def _disposition(kind: str, name: str, digest: str, download: bool) -> str:
    """Content-Disposition with the file's own name (RFC 5987) and an ASCII fallback."""
    extension = kind if kind in MEDIA_TYPES else "bin"
    fallback = f"{digest[:12]}.{extension}"
    mode = "inline" if kind in _INLINE and not download else "attachment"
    name = re.sub(r'[\\/:*?"<>|\r\n]+', "_", name or "").strip() or fallback
    return f"{mode}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


async def archived_copy(datasette, request):
    digest = request.url_vars["digest"]
    for db in datasette.databases.values():
        if db.is_memory or not db.path or "documents" not in await db.table_names():
            continue
        # a report's own page has no file name: it is saved under the report's title
        found = (await db.execute(
            "select d.kind, d.content_type, coalesce(d.filename, (select r.title || '.' || d.kind "
            "  from reports r where r.url = d.report_url and d.url = d.report_url)) as filename, "
            "  d.url from documents d where d.sha256 = :d "
            "union all select null, content_type, null, url from document_versions where sha256 = :d "
            "limit 1", {"d": digest})).first()
        store = _store(db.path)
        if found and store.exists(digest):
            kind = found["kind"] or "bin"
            content_type = MEDIA_TYPES[kind][0] if kind in MEDIA_TYPES else "application/octet-stream"
            if kind == "image":  # one kind, several media types: the server's, else the name's
                content_type = _picture_type(found["content_type"], found["url"]) or content_type
            charset = re.search(r"charset=([\w-]+)", found["content_type"] or "")
            if kind == "html" and charset:
                content_type += f"; charset={charset.group(1)}"
            headers = {
                "Content-Disposition": _disposition(kind, found["filename"], digest,
                                                    request.args.get("download") == "1"),
                # an archived page never runs its scripts in the archive's origin
                "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "public, max-age=31536000, immutable",
            }
            if isinstance(store, ContentStore):  # streamed: a large PDF is not read into memory
                return AsgiFileDownload(store.path(digest), content_type=content_type, headers=headers)
            return Response(store.read(digest), content_type=content_type, headers=headers)
    return Response.text("不在档案中 (not in the archive)", status=404)


@hookimpl
def register_routes():
    return [(r"^/-/archive/(?P<digest>[0-9a-f]{64})$", archived_copy)]
