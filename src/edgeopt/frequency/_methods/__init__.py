"""The methods of :func:`edgeopt.frequency.allocate_bandwidth`, one module each, one signature.

Each method is ``solve(problem: BandwidthProblem) -> MethodResult``.
"""
