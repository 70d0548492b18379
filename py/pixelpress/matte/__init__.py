"""The background mattes the background-removal ops are built from.

`local`: the classical studio-backdrop matte and the edge refinement both
mattes share; `neural`: the salient-object network's matte (see `saliency`).
"""
