"""Past one machine: the shared stage cache and its store."""
