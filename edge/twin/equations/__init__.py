"""Published risk equations: Pooled Cohort Equations, Framingham 2008 general CVD, FINDRISC."""
from edge.twin.equations.result import RiskResult

__all__ = ["RiskResult"]
