"""The errors kb raises for users: the CLI and web app turn them into messages."""


class KbError(Exception):
    """Something the user can fix; the message says what and how."""


class ModelError(KbError):
    """The embedding model cannot be provisioned or loaded."""


class IndexMismatch(KbError):
    """The index is missing, broken, or was built with other settings."""


class DocumentError(KbError):
    """The reports folder or a report cannot be read."""


class StoreUnavailable(KbError):
    """The store holding the index (a Milvus server) cannot be reached now; asking again later may work."""
