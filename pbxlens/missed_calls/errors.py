"""What can go wrong with a callback request, each with an HTTP status, a stable id (the
API's `error`, the pages' translation key `mc_err_<id>`) and the values its message names."""

from __future__ import annotations

from typing import Any

from pbxlens import PbxlensError


class MissedError(PbxlensError):
    status = 400
    error_id = "invalid"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params

    def public(self) -> dict[str, Any]:
        return {"error": self.error_id, "status": self.status, "message": str(self),
                **self.params}


class NotFound(MissedError):
    status = 404
    error_id = "not-found"


class Forbidden(MissedError):
    status = 403
    error_id = "forbidden"


class NotOpen(MissedError):
    """The request is closed (served, called back, flushed): nothing more to do with it."""

    status = 409
    error_id = "not-open"


class InProgress(NotOpen):
    """A callback to the number is running (R6b): no booking until it ends."""

    error_id = "in-progress"


class NotBooked(MissedError):
    status = 409
    error_id = "not-booked"


class Conflict(MissedError):
    """Another operator holds the booking; `booked_by` names them."""

    status = 409
    error_id = "conflict"

    def __init__(self, holder: str) -> None:
        super().__init__(f"already booked by {holder}", booked_by=holder)
        self.holder = holder
