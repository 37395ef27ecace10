"""The one error every config reader raises for a file its server would refuse."""


class ConfigSyntaxError(ValueError):
	"""`file:line: what`, as the server itself would name it (nginx -t, caddy validate)."""

	def __init__(self, file: str, line: int, message: str):
		super().__init__(f"{file}:{line}: {message}")
		self.file, self.line, self.message = file, line, message
