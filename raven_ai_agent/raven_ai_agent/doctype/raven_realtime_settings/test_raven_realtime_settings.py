# Copyright (c) 2026, raven_ai_agent developers
# For license information, please see license.txt

import os
import shutil
import ssl
import tempfile

import frappe

try:  # v16 name first; v15 has FrappeTestCase
	from frappe.tests import IntegrationTestCase as FrappeTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase

from raven_ai_agent.config import SETTINGS_DOCTYPE, get_config

FIELDS = (
	"deployment_type",
	"base_url",
	"socketio_path",
	"probe_timeout",
	"check_external",
	"ca_file",
	"extra_client_urls",
)


class TestRavenRealtimeSettings(FrappeTestCase):
	def setUp(self):
		frappe.set_user("Administrator")
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		self._saved = {f: doc.get(f) for f in FIELDS}

	def tearDown(self):
		frappe.set_user("Administrator")
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.update(self._saved)
		doc.save()

	def _save(self, **values):
		doc = frappe.get_single(SETTINGS_DOCTYPE)
		doc.update({"deployment_type": "Auto", "base_url": "", "socketio_path": "/socket.io/"})
		doc.update(values)
		doc.save()
		return doc

	def test_rejects_base_url_with_path(self):
		self.assertRaises(frappe.ValidationError, self._save, base_url="https://erp.example.com/app")

	def test_rejects_base_url_with_credentials(self):
		self.assertRaises(frappe.ValidationError, self._save, base_url="https://user:pw@erp.example.com")

	def test_rejects_bad_socketio_path(self):
		for path in ("socket.io/", "/socket.io", "/../socket.io/", "/socket io/", "/"):
			with self.subTest(path=path):
				self.assertRaises(frappe.ValidationError, self._save, socketio_path=path)

	def test_rejects_timeout_out_of_range(self):
		for timeout in (0.1, 31, -1):
			with self.subTest(timeout=timeout):
				self.assertRaises(frappe.ValidationError, self._save, probe_timeout=timeout)

	def test_normalises_base_url(self):
		doc = self._save(base_url="HTTPS://ERP.Example.com:443/")
		self.assertEqual(doc.base_url, "https://erp.example.com")

	def test_override_takes_effect_on_next_read(self):
		self._save(deployment_type="Sandbox tunnel", base_url="https://tunnel.example.org")
		config = get_config()
		self.assertEqual(config.deployment_type.value, "sandbox")
		self.assertEqual(config.get_external_http_base(), "https://tunnel.example.org")
		self.assertEqual(config.get_external_socketio_url(), "https://tunnel.example.org")
		self.assertEqual(config.sources["base_url"].value, "settings override")

	def test_auto_means_not_overridden(self):
		self._save(deployment_type="Auto", base_url="")
		config = get_config()
		self.assertEqual(config.sources["deployment_type"].value, "inferred")
		self.assertNotEqual(config.sources["base_url"].value, "settings override")

	def test_extra_client_urls_are_checked_and_normalised(self):
		doc = self._save(
			extra_client_urls=" http://erp.example.com:8443 \n\nhttps://erp.example.com/socket.io/"
		)
		self.assertEqual(
			doc.extra_client_urls,
			"http://erp.example.com:8443/socket.io/\nhttps://erp.example.com/socket.io/",
		)
		for bad in ("ftp://erp.example.com", "http://user:pw@erp.example.com", "erp.example.com:8443"):
			with self.subTest(bad=bad):
				self.assertRaises(frappe.ValidationError, self._save, extra_client_urls=bad)

	def test_ca_file_keeps_a_certificate_path_and_refuses_keys_and_missing_files(self):
		cert, key = _ca_and_key_files(self)
		doc = self._save(ca_file=cert)
		self.assertEqual(doc.ca_file, cert)
		self.assertRaises(frappe.ValidationError, self._save, ca_file=key)  # a private key: never
		self.assertRaises(frappe.ValidationError, self._save, ca_file=cert + ".missing")


def _ca_and_key_files(test) -> tuple[str, str]:
	"""A real CA bundle (the system's, which any bench serving https has) and a key file."""
	paths = ssl.get_default_verify_paths()
	bundle = next((p for p in (paths.cafile, paths.openssl_cafile) if p and os.path.isfile(p)), None)
	test.assertIsNotNone(bundle, "no system CA bundle found (ssl.get_default_verify_paths)")
	folder = tempfile.mkdtemp(prefix="raven-ca-")
	test.addCleanup(shutil.rmtree, folder, True)
	key = os.path.join(folder, "server.key")
	with open(key, "w") as f:
		f.write("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n")
	return bundle, key
