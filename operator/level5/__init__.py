"""level5: a Kubernetes operator that runs autonomous code-writing agents in locked-down gVisor pods."""

__version__ = "0.1.0"
