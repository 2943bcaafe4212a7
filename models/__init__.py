"""Data files of edgeopt: DNN layer profiles and device profiles (``edgeopt.profiles``).

The ``models/`` folder of the source tree is installed as this data package.  Each profile is
one data file (JSON or CSV) beside this module, together with the script that generated it,
so that every number can be traced to how it was measured: :func:`load_profile` returns the
per-layer table of AlexNet, VGG-16, ResNet-18, ResNet-50 or MobileNetV2 at 224×224 (made by
``make_profiles.py``), :func:`load_device_profile` a nominal phone, IoT board or edge
server.  Files are read through :mod:`importlib.resources`, which works from a wheel, a zip
and an editable install alike.

Examples
--------
>>> from edgeopt import profiles
>>> isinstance(profiles.available(), list)
True
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from edgeopt.profiles.layers import (
    DEVICE_NAMES,
    MODEL_NAMES,
    DeviceProfile,
    LayerProfile,
    ModelProfile,
    load_device_profile,
    load_profile,
)

from edgeopt._validation import check_choice

__all__ = [
    "DATA_SUFFIXES",
    "available",
    "profile_file",
    "read_text",
    "MODEL_NAMES",
    "DEVICE_NAMES",
    "LayerProfile",
    "ModelProfile",
    "DeviceProfile",
    "load_profile",
    "load_device_profile",
]

#: File suffixes that count as profile data.
DATA_SUFFIXES = (".json", ".csv")


def available() -> list[str]:
    """Names of the profile data files shipped with edgeopt, sorted.

    Returns
    -------
    list of str
        File names (with their suffix) of every profile in the package.

    Examples
    --------
    >>> from edgeopt.profiles import available
    >>> all(name.endswith((".json", ".csv")) for name in available())
    True
    """
    root = resources.files(__name__)
    return sorted(p.name for p in root.iterdir() if p.is_file() and p.name.endswith(DATA_SUFFIXES))


def profile_file(name: str) -> Traversable:
    """The packaged file of one profile, as an :mod:`importlib.resources` traversable.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    importlib.resources.abc.Traversable

    Raises
    ------
    InvalidInputError
        If no profile has that name (the message lists the shipped ones).

    Examples
    --------
    >>> from edgeopt.profiles import available, profile_file
    >>> all(profile_file(name).is_file() for name in available())
    True
    """
    return resources.files(__name__) / check_choice(name, "name", available())


def read_text(name: str) -> str:
    """The text of one profile file (UTF-8).

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    str

    Raises
    ------
    InvalidInputError
        If no profile has that name.

    Examples
    --------
    >>> from edgeopt.profiles import available, read_text
    >>> all(isinstance(read_text(name), str) for name in available())
    True
    """
    return profile_file(name).read_text(encoding="utf-8")
