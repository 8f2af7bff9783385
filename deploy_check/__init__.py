"""`make deploy-check`: the synthesized template deployed on MiniStack (a local AWS emulator that runs the
functions without Docker) and driven end to end through the bus and the queues; see the README."""


class DeployCheckProblem(Exception):
    """The check could not run; the message is one line naming the resource, the property and the reason."""
