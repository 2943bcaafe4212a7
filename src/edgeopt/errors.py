"""Exception types of edgeopt, all in one place.

Every check of user input raises :class:`InvalidInputError`; it is a subclass of
:class:`ValueError`, so ``except ValueError`` keeps working in user code.  Input that is
valid but lies outside the range a model was made for gives a :class:`ModelRangeWarning`.
"""

from __future__ import annotations

__all__ = [
    "EdgeoptError",
    "InvalidInputError",
    "SolverError",
    "ConfigError",
    "ModelRangeWarning",
]


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


class ModelRangeWarning(UserWarning):
    """Valid input outside the range in which a model's source states it holds.

    The value is still computed with the model's formula, as written; the warning says which
    argument left the range and what the range is.  A common cause is a unit mistake
    (kilometres given where metres are expected).  Silence it with the :mod:`warnings`
    filters where extrapolating is intended, or turn it into an error with
    ``warnings.simplefilter("error", ModelRangeWarning)``.

    Examples
    --------
    >>> import warnings
    >>> from edgeopt.channel import pathloss_db
    >>> from edgeopt.errors import ModelRangeWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     loss_db = pathloss_db(0.1)          # 0.1 m: kilometres given as metres?
    >>> [w.category.__name__ for w in caught]
    ['ModelRangeWarning']
    """
