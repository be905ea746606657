"""The lab's error: ``LabError``, raised when the lab cannot be started, reached or stopped (by
``lab.Lab``, the broker kinds in brokers/ and labctl, which prints it as one line)."""


class LabError(RuntimeError):
    """The lab could not be started, reached or stopped."""
