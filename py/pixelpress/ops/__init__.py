"""The operations, one module each, named after the op: `SPEC` and the function (see `operation`)."""
