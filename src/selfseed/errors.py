"""One error style for every expected failure on user input."""


class SelfseedError(Exception):
    """An expected failure: says where (cohort, file, line, column, config key), what was found,
    what was expected and, where there is one, the fix."""

    def __init__(
        self,
        problem,
        *,
        cohort=None,
        file=None,
        line=None,
        column=None,
        key=None,
        found=None,
        expected=None,
        fix=None,
    ):
        self.problem = problem
        self.cohort, self.file, self.line, self.column, self.key = cohort, file, line, column, key
        self.found, self.expected, self.fix = found, expected, fix
        super().__init__(str(self))

    def __str__(self):
        where = [
            f"{name} {value!s}" if name != "config key" else f"config key '{value}'"
            for name, value in (
                ("cohort", self.cohort and f"'{self.cohort}'"),
                ("file", self.file),
                ("line", self.line),
                ("column", self.column and f"'{self.column}'"),
                ("config key", self.key),
            )
            if value is not None
        ]
        text = self.problem
        if where:
            text += f"\n  where:    {', '.join(where)}"
        if self.found is not None:
            text += f"\n  found:    {self.found}"
        if self.expected is not None:
            text += f"\n  expected: {self.expected}"
        if self.fix is not None:
            text += f"\n  fix:      {self.fix}"
        return text


class ConfigError(SelfseedError):
    """The config names something that is not there or not allowed."""


class InputDataError(SelfseedError):
    """An input file is unreadable, malformed or inconsistent."""


class DownloadError(SelfseedError):
    """A public file could not be downloaded intact."""


class NotEstimable(InputDataError):
    """An estimate that these data cannot give (no events, a constant score, a singular design, too
    few distinct values, ...): the analysis becomes a row with this reason, the others go on."""
