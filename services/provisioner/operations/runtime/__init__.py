"""The provisioner runtime: the commands apps sends (deploy, units, start/stop/...), the
reconciler that brings running units to the desired state, the route table and unit
autoscale. Operations take a ``RuntimeDeps`` first (deps.py)."""
