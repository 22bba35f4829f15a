"""The grader framework: cases, checks, mistake detectors, the student proxy and the report."""

from .case import Case, CaseContext, Grader, Mapping_, Mistake, Scalar, StaleExpectations
from .checks import Fail
from .plain import Rng
from .proxy import CallResult, InProcessRunner, Limits, Runner, StudentFault, StudentSession
from .report import CaseReport, Report

__all__ = [
    "CallResult", "Case", "CaseContext", "CaseReport", "Fail", "Grader", "InProcessRunner", "Limits",
    "Mapping_", "Mistake", "Report", "Rng", "Runner", "Scalar", "StaleExpectations", "StudentFault",
    "StudentSession",
]
