"""Exceptions of frappe/exceptions.py (v15) that the stand-in raises, with their `http_status_code`."""


class ValidationError(Exception):
	http_status_code = 417


class AuthenticationError(Exception):
	http_status_code = 401


class SessionExpired(Exception):
	http_status_code = 401


class PermissionError(Exception):  # noqa: A001 - the real name shadows the builtin too
	http_status_code = 403


class DoesNotExistError(ValidationError):
	"""v15: accepts `doctype=` as keyword."""

	http_status_code = 404

	def __init__(self, *args, doctype=None):
		super().__init__(*args)
		self.doctype = doctype


class PageDoesNotExistError(ValidationError):
	http_status_code = 404


class DuplicateEntryError(Exception):
	http_status_code = 409


class SessionStopped(Exception):
	http_status_code = 503


class OutgoingEmailError(Exception):
	http_status_code = 501


class NotFound(Exception):
	http_status_code = 404


class IncorrectSitePath(NotFound):
	pass


class SiteNotSpecifiedError(Exception):
	def __init__(self, *args, **kwargs):
		self.message = "Please specify --site sitename"
		super(Exception, self).__init__(self.message)


class AppNotInstalledError(ValidationError):
	pass


class MandatoryError(ValidationError):
	pass


class LinkValidationError(ValidationError):
	pass


class TimestampMismatchError(ValidationError):
	pass


class CannotChangeConstantError(ValidationError):
	pass


class DocstatusTransitionError(ValidationError):
	pass


class InvalidEmailAddressError(ValidationError):
	pass


class SessionBootFailed(ValidationError):
	http_status_code = 500


class QueryTimeoutError(Exception):
	pass


class QueryDeadlockError(Exception):
	pass


class ImplicitCommitError(ValidationError):
	pass


class InReadOnlyMode(ValidationError):
	http_status_code = 503


class FrappeTypeError(TypeError):
	"""Raised by whitelisted-argument type validation (v15 `frappe.utils.typing_validations`)."""

	http_status_code = 417


class TooManyRequestsError(Exception):
	http_status_code = 429


class RateLimitExceededError(ValidationError):
	http_status_code = 429
