"""The methods of :meth:`edgeopt.offload.MultiUserOffloading.solve`, one module each.

Every method has the signature ``(arrays, options, problem) -> MethodOutput`` of
:mod:`._base`.
"""
