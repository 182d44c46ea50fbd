"""Where the archive keeps every captured file's bytes: a content-addressed store, each
file under its sha256 (`ab/ab12…`). By default a folder beside the database
(`archive.db` -> `archive-files/`); a crawl given Scrapy's `FILES_STORE` (a folder, or an
`s3://bucket/prefix/` URI) keeps them there, and the archive records where, so that
`reparse`, `serve` and `backup` read from the same place.

    store_for("archive.db").read(digest)
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path


def files_dir(db_path: str | Path) -> Path:
    """Where the bytes of an archive live: `archive.db` -> `archive-files/`."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}-files")


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def content_path(digest: str) -> str:
    """A file's place in the store, relative to its root."""
    return f"{digest[:2]}/{digest}"


def checked(digest: str) -> str:
    """The digest, if it is one (64 lowercase hex characters): never a path of its own."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return digest


class ContentStore:
    """The content-addressed bytes in a folder: `root/ab/ab12…`, each named by its sha256."""

    # files being written; emptied by the next writer (what a crash left is never read)
    INCOMING = ".incoming"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / content_path(checked(digest))

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def put(self, body: bytes, digest: str | None = None) -> str:
        """Store `body` and return its digest (`digest`: already known, not computed again).
        A file already stored is not written again; a new one is written under a temporary
        name, synced, and renamed into place, so that a reader (or a crash) never meets half
        a file."""
        digest = digest or sha256(body)
        target = self.path(digest)
        if target.exists():
            return digest
        incoming = self.root / self.INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=incoming)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def clear_incoming(self) -> None:
        """Remove what an interrupted writer left half-written (only the lock holder may)."""
        incoming = self.root / self.INCOMING
        if incoming.is_dir():
            for leftover in incoming.iterdir():
                leftover.unlink(missing_ok=True)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()

    def digests(self):
        """Every stored file's digest (for backups)."""
        for path in sorted(self.root.glob("??/*")):
            yield path.name


class S3ContentStore:
    """The store in an S3 bucket (or any S3 API), under a prefix: `s3://bucket/prefix/`.
    Credentials, endpoint and region as botocore finds them (AWS_* environment variables,
    ~/.aws), or given as Scrapy's AWS_* settings to the crawl."""

    def __init__(self, uri: str, **client_options):
        import botocore.session

        self.uri = uri
        self.bucket, _, self.prefix = uri[len("s3://"):].partition("/")
        options = {k: v for k, v in client_options.items() if v is not None}
        self.client = botocore.session.get_session().create_client("s3", **options)

    def _key(self, digest: str) -> str:
        return self.prefix + content_path(checked(digest))

    def read(self, digest: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(digest))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"{self.uri}{content_path(digest)}") from None

    def exists(self, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
            return True
        except self.client.exceptions.ClientError:
            return False

    def put(self, body: bytes, digest: str | None = None) -> str:
        digest = digest or sha256(body)
        if not self.exists(digest):  # a PUT is whole or nothing: no temporary name needed
            self.client.put_object(Bucket=self.bucket, Key=self._key(digest), Body=body)
        return digest

    def clear_incoming(self) -> None:
        pass


def open_store(location: str | Path, **client_options):
    """The store at a location: a folder (or file:// URI), or s3://bucket/prefix/
    (`client_options`: botocore's, such as endpoint_url, region_name, credentials)."""
    location = str(location)
    if location.startswith("s3://"):
        return S3ContentStore(location, **client_options)
    return ContentStore(location[len("file://"):] if location.startswith("file://") else location)


def store_location(db_path: str | Path) -> str:
    """Where an archive's files are: what its crawls recorded, else beside it."""
    path = Path(db_path)
    if path.exists():
        connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "select value from archive_info where name = 'files_store'").fetchone()
        except sqlite3.OperationalError:  # an archive older than the record
            row = None
        finally:
            connection.close()
        if row and row[0]:
            return row[0]
    return str(files_dir(path).resolve())


def store_for(db_path: str | Path, **client_options):
    return open_store(store_location(db_path), **client_options)
