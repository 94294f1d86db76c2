"""Developer and test tooling: the local stack launcher and its helpers."""
