"""Engine operations: one module per job, each `op(data, options) -> Result`."""
