"""DLPE solver: the running system (pipeline, CLI, service)."""
