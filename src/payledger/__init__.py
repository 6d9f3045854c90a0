"""payledger: keeps a PayTrace merchant account and a Dynamics 365 F&O company in step."""

__version__ = "0.1.0"
