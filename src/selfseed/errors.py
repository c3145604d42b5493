"""One error style for every expected failure on user input or in the environment."""

import errno
import os


class SelfseedError(Exception):
    """An expected failure: says where (cohort, file, line, column, config key), what was found,
    what was expected and, where there is one, the fix."""

    def __init__(
        self,
        problem,
        *,
        job=None,
        cohort=None,
        file=None,
        line=None,
        column=None,
        key=None,
        found=None,
        expected=None,
        fix=None,
    ):
        self.problem, self.job = problem, job
        self.cohort, self.file, self.line, self.column, self.key = cohort, file, line, column, key
        self.found, self.expected, self.fix = found, expected, fix
        super().__init__(str(self))

    def __str__(self):
        where = [
            f"{name} {value!s}" if name != "config key" else f"config key '{value}'"
            for name, value in (
                ("job", self.job),
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


class EnvironmentFailure(SelfseedError):
    """The machine, not the input: disk full, quota exceeded, no permission, read-only file system,
    out of memory. Running again after fixing it gives the result."""


# errno of OSErrors that are the environment's, not the input's or selfseed's
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOMEM: "out of memory",
    errno.EFBIG: "the file is larger than the system allows",
}


def environment_errno(error):
    """The ENVIRONMENT_ERRNOS code of an OSError (h5py's OSErrors carry it only in the message),
    or None."""
    if not isinstance(error, OSError):
        return None
    if error.errno in ENVIRONMENT_ERRNOS:
        return error.errno
    text = str(error)
    return next(
        (
            code
            for code in ENVIRONMENT_ERRNOS
            if f"errno = {code}," in text or os.strerror(code) in text
        ),
        None,
    )


def environment_failure(error, path=None):
    """An EnvironmentFailure for an OSError or MemoryError while writing or reading `path`, or None
    when `error` is not the environment's."""
    if isinstance(error, MemoryError):
        return EnvironmentFailure(
            "out of memory (MemoryError)",
            file=path,
            found="the job needed more memory than it could get",
            fix="run the job with more memory (on a cluster: mem_mb, e.g. --set-resources "
            "ingest:mem_mb=16000), or check that the input files are the ones you meant",
        )
    code = environment_errno(error)
    if code is None:
        return None
    return EnvironmentFailure(
        ENVIRONMENT_ERRNOS[code],
        file=path if path is not None else getattr(error, "filename", None),
        found=f"{errno.errorcode[code]}: {error}",
        fix={
            errno.ENOSPC: "free disk space (or move results/ and the download cache to a larger "
            "disk) and run again; nothing half-written was kept",
            errno.EDQUOT: "free space within your quota and run again",
            errno.EROFS: "run in a writable directory",
            errno.ENOMEM: "run the job with more memory",
            errno.EFBIG: "raise the file size limit (ulimit -f) or write to another file system",
        }.get(code, "check the permissions of the file and its folder, then run again"),
    )


class NotEstimable(InputDataError):
    """An estimate that these data cannot give (no events, a constant score, a singular design, too
    few distinct values, ...): the analysis becomes a row with this reason, the others go on."""
