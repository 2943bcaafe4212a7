"""The device-selection methods of :func:`edgeopt.aircomp.select_devices`, one module each.

Every method module exposes one function with the same signature,

    ``select_<name>(problem: SelectionProblem, options: dict, rng: Generator | None)
    -> MethodResult``

(see :mod:`._base`), its option schema ``OPTIONS`` and a flag ``RANDOMIZED``; the
docstring of the function cites the paper, DOI and equations it implements.
:func:`~edgeopt.aircomp.select_devices` validates the input, builds the
:class:`~._base.SelectionProblem`, dispatches through its table of methods and then applies
the exact MSE check to whatever the method returns.
"""
