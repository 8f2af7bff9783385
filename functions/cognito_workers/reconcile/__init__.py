"""Reconciliation: an HR snapshot (every current employee, one row each) as the desired state of the pool.

The snapshot is streamed (snapshot.py), the pool read in pages (pool.py), the two compared person by person
(diff.py), and the drift published as the HR lifecycle events the planner already runs, once the whole
snapshot has passed the safety check (run.py).
"""
