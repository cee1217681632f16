"""The NumPy entry of every kernel name (kernels.NAMES), written against `xp` so CuPy runs it too.

One module per kernel, each with the same arguments as its Numba twin in kernels/cpu; arrays.py
holds the row-block passes and reductions they share (and the fused ops' other NumPy code uses).
"""
