"""What stops the local AWS from starting or from being provisioned, said in one line: the resource, the
property or the port, and the reason."""


class LocalAwsError(Exception):
    """The local AWS could not be started or provisioned; the message is one line."""
