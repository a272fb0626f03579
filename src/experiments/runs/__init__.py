"""Running studies: the runner, kernels, staging folders, the SQLite run registry, Dask sweeps."""
