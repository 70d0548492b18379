"""Many inputs through one op: what the command line (`pixelpress OP ... -j N`) and a Dask cluster share.

- `naming`: output names, as the studio names its downloads.
- `core`: one input through the op, the same in the command line's process, its worker
  processes and a Dask worker; the typed codes of failures outside the engine.
- `fetch`: URL inputs, downloaded with timeouts, a byte cap and a guard against private addresses.
- `manifest`: the JSONL record of a run, and which inputs an earlier run already finished.
- `parallel`: how many processes memory allows, and running inputs in them.
- `dask`: the thin helper for a Dask cluster over fsspec paths.

docs/scale.md says when to use which.
"""
