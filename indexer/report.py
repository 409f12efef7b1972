"""What a writing run tells: the counts every build, update and delete ends
with, and the rejected inputs with their reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.errors import ExitCode, StoreError
from indexer.sources.article import Rejection

__all__ = ["KEPT_REJECTIONS", "Progress", "Refused", "Report"]

KEPT_REJECTIONS = 10_000  # reasons kept per run (all are counted); see Report.reject

# Called with the number of records just read (a progress bar's advance).
Progress = Callable[[int], None]


@dataclass
class Report:
    # Records read: articles, and lines or records rejected on their own (a
    # rejected file is not a record), so read = added + replaced + unchanged
    # + rejected records.
    read: int = 0
    indexed: int = 0
    added: int = 0
    replaced: int = 0
    views_only: int = 0  # of the replaced: same text, new view count (not re-segmented)
    unchanged: int = 0
    deleted: int = 0
    # The first KEPT_REJECTIONS rejections, with their reasons; every one is
    # counted (a feed of a billion broken lines must not grow memory with it).
    rejected: list[Rejection] = field(default_factory=list)
    rejected_total: int = 0
    rejected_files: int = 0
    seconds: float = 0.0
    chars: int = 0
    generation: str = ""
    missing: list[str] = field(default_factory=list)  # ids to delete that were not there
    dry_run: bool = False
    repaired: str = ""  # what the run found and repaired before it started

    def reject(self, item: Rejection) -> None:
        """Count ``item``, and keep it for the report while fewer than
        KEPT_REJECTIONS are kept."""
        self.rejected_total += 1
        self.rejected_files += item.location == "file"
        if len(self.rejected) < KEPT_REJECTIONS:
            self.rejected.append(item)

    @property
    def rejected_records(self) -> int:
        return self.rejected_total - self.rejected_files

    @property
    def rejected_untold(self) -> int:
        """Rejections counted but not kept (past KEPT_REJECTIONS)."""
        return self.rejected_total - len(self.rejected)

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.deleted)

    def summary(self) -> str:
        """The one-line summary every writing command ends with."""
        replaced = f"replaced {self.replaced}"
        if self.views_only:
            replaced += f" ({self.views_only} view counts only)"
        line = (
            f"read {self.read} · added {self.added} · {replaced} · "
            f"unchanged {self.unchanged} · deleted {self.deleted} · "
            f"rejected {self.rejected_records}"
        )
        if self.rejected_files:
            line += f" · file problems {self.rejected_files}"
        return line + (" · dry run, nothing written" if self.dry_run else "")


class Refused(StoreError):
    """A run refused to write (nothing usable read, a guard); the live index was
    left as it was. Carries the run's report, rejections included."""

    exit_code_default = ExitCode.REFUSED

    def __init__(self, report: Report, message: str, hint: str):
        super().__init__(message, hint=hint)
        self.report = report
