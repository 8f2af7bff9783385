"""The HR lifecycle: events, plans of ordinary commands, and the planner that runs them per person."""
