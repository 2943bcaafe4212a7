"""Package layout for setuptools (everything else is in pyproject.toml).

The library lives in ``src/edgeopt``; two top-level folders are installed inside it:
``experiments/`` as ``edgeopt.experiments`` and ``models/`` as the data package
``edgeopt.profiles``.  pyproject.toml cannot map a folder outside ``src`` into a package
found there, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "edgeopt.experiments", "edgeopt.profiles"],
    package_dir={"": "src", "edgeopt.experiments": "experiments", "edgeopt.profiles": "models"},
    package_data={"edgeopt.profiles": ["*.json", "*.csv", "*.md"]},
)
