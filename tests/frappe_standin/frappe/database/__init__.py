"""frappe.database (v15): `get_db` returns the stand-in's in-memory Database."""

from frappe.database.database import Database


def get_db(socket=None, host=None, user=None, password=None, port=None, cur_db_name=None) -> Database:
	return Database(
		host=host, user=user, password=password, port=port, cur_db_name=cur_db_name, socket=socket
	)
