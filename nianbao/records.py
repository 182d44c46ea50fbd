"""What a crawl or a re-parse hands the archive: the files of a report and the report
made of them. Apart from the archive's writer so that the parse workers, which build
them, load none of its database code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DocumentRecord:
    """One captured file: the detail page itself or one of its attachments.

    `fresh`: its bytes were fetched by this crawl (else they are the archive's last
    stored version); `fetch_error`: why this crawl's attempt failed."""

    url: str
    kind: str
    sha256: str
    size: int
    content_type: str | None = None
    filename: str | None = None
    http_status: int | None = 200
    fetched_at: str | None = None
    parse_error: str | None = None
    checked_at: str | None = None
    fetch_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    fresh: bool = True
    # the server answered 304: the stored bytes are current (no body came)
    not_modified: bool = False

    FIELDS = ("url", "kind", "sha256", "size", "content_type", "filename", "http_status",
              "fetched_at", "parse_error", "checked_at", "fetch_error", "etag", "last_modified")

    @classmethod
    def stored(cls, row: dict) -> "DocumentRecord":
        """A document as the archive holds it (not fetched by this crawl)."""
        return cls(**{name: row.get(name) for name in cls.FIELDS}, fresh=False)


@dataclass
class ReportRecord:
    """What the archive keeps of one report (see `assemble`)."""

    url: str
    fields: dict
    cells: list[tuple[str, str, str, int | float]] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    sections: list[dict] = field(default_factory=list)
    # the files it was made of, each with what its parse found (kind, parse error)
    documents: list[DocumentRecord] = field(default_factory=list)
    # its row of the search index (nianbao/search.py), made where it was parsed
    search: dict | None = None
