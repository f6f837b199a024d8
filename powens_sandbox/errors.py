"""The Powens error contract: every failure is an HTTP status plus {code, description, message, request_id}."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, description: str, message: str | None = None):
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description
        self.message = message


def not_found(what: str) -> ApiError:
    return ApiError(404, "notFound", f"{what} not found")


def invalid_value(description: str) -> ApiError:
    return ApiError(400, "invalidValue", description)


def missing_parameter(name: str) -> ApiError:
    return ApiError(400, "missingParameter", f"Missing parameter: {name}")
