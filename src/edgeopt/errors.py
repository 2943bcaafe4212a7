"""Exception types of edgeopt, all in one place.

Every check of user input raises :class:`InvalidInputError`; it is a subclass of
:class:`ValueError`, so ``except ValueError`` keeps working in user code.
"""

from __future__ import annotations

__all__ = ["EdgeoptError", "InvalidInputError", "SolverError", "ConfigError"]


class EdgeoptError(Exception):
    """Base class of every exception raised on purpose by edgeopt."""


class InvalidInputError(EdgeoptError, ValueError):
    """A bad argument: the message names the argument, its value and what was expected.

    Examples
    --------
    >>> from edgeopt.errors import InvalidInputError
    >>> issubclass(InvalidInputError, ValueError)
    True
    """


class SolverError(EdgeoptError, RuntimeError):
    """A numerical solver failed in a way that is not a property of the problem.

    Infeasible problems are *not* errors: they come back as a result with status
    ``"infeasible"``.  This is raised only when every solver in the fallback chain failed.
    """


class ConfigError(InvalidInputError):
    """A malformed experiment or sweep configuration (TOML file or grid)."""
