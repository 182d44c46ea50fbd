"""Legacy Word (.doc), WPS and RTF files: converted to DOCX by LibreOffice headless,
within a time limit, then read as DOCX."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..errors import ReportParseError
from ..limits import OFFICE_SECONDS
from .docx import read_docx
from ..rows import Extracted

_lock = threading.Lock()  # one LibreOffice at a time per process: it locks its profile
_profile: Path | None = None


def _soffice() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise ReportParseError("reading DOC/WPS files needs LibreOffice (soffice) installed", "doc")


def _profile_dir() -> Path:
    """A LibreOffice user profile for this process, made once (the first start is slow)."""
    global _profile
    if _profile is None:
        _profile = Path(tempfile.mkdtemp(prefix="nianbao-lo-"))
        atexit.register(shutil.rmtree, _profile, True)
    return _profile


def convert(body: bytes, suffix: str, target: str = "docx") -> bytes:
    """Convert a document with LibreOffice; `suffix` tells it the input's format."""
    soffice = _soffice()
    with _lock, tempfile.TemporaryDirectory(prefix="nianbao-convert-") as tmp:
        source = Path(tmp) / f"input{suffix}"
        source.write_bytes(body)
        command = [soffice, f"-env:UserInstallation={_profile_dir().as_uri()}", "--headless",
                   "--norestore", "--nolockcheck", "--convert-to", target, "--outdir", tmp,
                   str(source)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        try:
            _out, err = process.communicate(timeout=OFFICE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ReportParseError(
                f"LibreOffice took more than {OFFICE_SECONDS} s to convert the file", suffix[1:])
        produced = Path(tmp) / f"input.{target.split(':')[0]}"
        if not produced.exists() or produced.stat().st_size == 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()
            raise ReportParseError(
                f"LibreOffice could not read the {suffix[1:].upper()} file"
                + (f": {detail[-1]}" if detail else ""), suffix[1:])
        return produced.read_bytes()


def read_legacy(body: bytes, kind: str) -> Extracted:
    extracted = read_docx(convert(body, f".{kind}"))
    extracted.format = kind
    return extracted


def read_spreadsheet(body: bytes, kind: str) -> Extracted:
    """A legacy workbook (.xls), through LibreOffice Calc, read as .xlsx."""
    from .xlsx import read_xlsx

    extracted = read_xlsx(convert(body, f".{kind}", "xlsx"))
    extracted.format = kind
    return extracted
