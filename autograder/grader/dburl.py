"""Which gradebook a command uses: the one place that turns ``GRADEBOOK=...`` into a database URL.

Every command (release, autograde, feedback, grades) asks ``resolve`` for
the URL, so they all read and write the same gradebook. Without a value the
gradebook is nbgrader's default, ``sqlite:///<course>/gradebook.db``. A
``postgresql://`` URL is served by the psycopg 3 driver; SQLAlchemy's bare
``postgresql://`` would pick psycopg2, so ``resolve`` names the driver.
"""

from __future__ import annotations

from pathlib import Path

SQLITE_NAME = "gradebook.db"
POSTGRES_DRIVER = "postgresql+psycopg"
_ACCEPTED = ("sqlite", "postgresql", "postgres", POSTGRES_DRIVER)


class GradebookURLError(ValueError):
    """A gradebook URL this kit cannot use; the message says what to write instead."""


def resolve(course_root: Path, url: str | None = None) -> str:
    """The SQLAlchemy URL of the course's gradebook: ``url`` if given, else the course's sqlite file."""
    if not url:
        return f"sqlite:///{Path(course_root).resolve() / SQLITE_NAME}"
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _ACCEPTED:
        raise GradebookURLError(
            f"the gradebook URL {redacted(url)!r} is not sqlite:///PATH or postgresql://USER@HOST/DB; "
            "leave GRADEBOOK unset for the course's sqlite file"
        )
    if scheme in ("postgresql", "postgres"):
        return f"{POSTGRES_DRIVER}://{rest}"
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for a server database."""
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def holds_assignment(url: str, assignment: str) -> bool:
    """Whether the gradebook exists and has ``assignment`` (i.e. the release step ran against it).

    Reads with plain SQLAlchemy: opening nbgrader's ``Gradebook`` would create
    the tables of a fresh database, which is the release step's job.
    """
    path = sqlite_path(url)
    if path is not None and (not path.is_file() or path.stat().st_size == 0):
        return False  # connecting would create an empty file
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as db:
            if not sqlalchemy.inspect(db).has_table("assignment"):
                return False
            query = sqlalchemy.text("SELECT 1 FROM assignment WHERE name = :name")
            return db.execute(query, {"name": assignment}).first() is not None
    finally:
        engine.dispose()
