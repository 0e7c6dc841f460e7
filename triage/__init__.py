"""triage: paper-review triage for conference chairs."""

__version__ = "0.1.0"
