"""pbxlens: CDR and call-center analytics for KalliopePBX and Asterisk."""

__version__ = "0.1.0"


class PbxlensError(Exception):
    """An error with a one-line message meant for the user (the CLI prints it, exit 2)."""

    exit_code = 2
