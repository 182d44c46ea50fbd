"""The one exception the parsers raise."""


class ReportParseError(Exception):
    """The bytes cannot be read as a report: empty, truncated, encrypted, corrupt, too
    large, too slow, or not a 政府信息公开工作年度报告 at all.

    `str(error)` is one line meant for a person. `kind` names the input's format where
    it was recognised.
    """

    def __init__(self, message: str, kind: str | None = None):
        super().__init__(message)
        self.kind = kind
