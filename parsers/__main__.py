"""`python -m parsers PATH`: print the report JSON for one file.

Exits 0 with the JSON on stdout, or 1 with one line on stderr when the file cannot be
read as a report (2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import ReportParseError, parse_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parsers", description=__doc__.split("\n")[0])
    parser.add_argument("path", help="a report file: .html .htm .pdf .docx .doc .wps .txt")
    parser.add_argument("--no-text", action="store_true",
                        help="leave the main text and sections out of the JSON")
    args = parser.parse_args(argv)
    try:
        with open(args.path, "rb") as handle:
            body = handle.read()
        report = parse_report(body, url=args.path)
    except OSError as error:
        print(f"{args.path}: {error.strerror or error}", file=sys.stderr)
        return 1
    except ReportParseError as error:
        print(f"{args.path}: {error}", file=sys.stderr)
        return 1
    if args.no_text:
        report.pop("text", None)
        report.pop("sections", None)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
