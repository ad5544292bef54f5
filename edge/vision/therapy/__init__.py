"""Physiotherapy with pose tracking: frames → landmarks → joint angles → reps, faults and a score."""
