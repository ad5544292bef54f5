"""Published risk equations: Pooled Cohort Equations, Framingham 2008, QRISK3, PREVENT, FINDRISC, CKD-EPI 2021."""
from edge.twin.equations.result import RiskResult

__all__ = ["RiskResult"]
