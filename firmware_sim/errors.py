"""Exceptions of the simulator: one base, so the CLI can report them in one place."""


class SimulatorError(Exception):
    """Base of every error the simulator raises on purpose.

    Errors from the OS or from paho are re-raised as a `SimulatorError` *from* their cause,
    so the traceback keeps the original and the caller needs to catch one type only.
    """


class ScenarioError(SimulatorError):
    """The configuration cannot drive a simulation (no scenario, unknown station, ...)."""


class LinkError(SimulatorError):
    """A transport (pseudo-terminal, symlink, broker client) could not be set up."""
