"""What a job is given: the session, `now`, the settings, and a place for work to do after the commit."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain.clock import oslo_date


@dataclass
class Context:
    session: object
    now: datetime
    config: Mapping
    # Run after the job's transaction is committed (removing files, say); never before.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def today(self) -> date:
        """The date in Norway at `now`: the register's dates (valid_until, ends_on) are Norwegian dates."""
        return oslo_date(self.now)
