# Copyright (c) 2026, raven_ai_agent developers
# For license information, please see license.txt

import datetime
import os
import shutil
import tempfile

import frappe

try:  # v16 name first; v15 has FrappeTestCase
	from frappe.tests import IntegrationTestCase as FrappeTestCase
except ImportError:
	from frappe.tests.utils import FrappeTestCase

from raven_ai_agent.config import SETTINGS_DOCTYPE, get_config

FIELDS = ("deployment_type", "base_url", "socketio_path", "probe_timeout", "check_external", "ca_file")


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
		self._save(deployment_type="sandbox", base_url="https://tunnel.example.org")
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

	def test_ca_file_keeps_a_certificate_path_and_refuses_keys_and_missing_files(self):
		cert, key = _self_signed_pair(self)
		doc = self._save(ca_file=cert)
		self.assertEqual(doc.ca_file, cert)
		self.assertRaises(frappe.ValidationError, self._save, ca_file=key)  # a private key: never
		self.assertRaises(frappe.ValidationError, self._save, ca_file=cert + ".missing")


def _self_signed_pair(test) -> tuple[str, str]:
	"""A self-signed certificate and its key in a temporary folder (cryptography ships with Frappe)."""
	from cryptography import x509
	from cryptography.hazmat.primitives import hashes, serialization
	from cryptography.hazmat.primitives.asymmetric import ec
	from cryptography.x509.oid import NameOID

	folder = tempfile.mkdtemp(prefix="raven-ca-")
	test.addCleanup(shutil.rmtree, folder, True)
	key = ec.generate_private_key(ec.SECP256R1())
	name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "raven test CA")])
	now = datetime.datetime.now(datetime.timezone.utc)
	cert = (
		x509.CertificateBuilder()
		.subject_name(name)
		.issuer_name(name)
		.public_key(key.public_key())
		.serial_number(x509.random_serial_number())
		.not_valid_before(now - datetime.timedelta(minutes=5))
		.not_valid_after(now + datetime.timedelta(days=1))
		.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
		.sign(key, hashes.SHA256())
	)
	cert_path, key_path = os.path.join(folder, "ca.pem"), os.path.join(folder, "ca.key")
	with open(cert_path, "wb") as f:
		f.write(cert.public_bytes(serialization.Encoding.PEM))
	with open(key_path, "wb") as f:
		f.write(
			key.private_bytes(
				serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
			)
		)
	return cert_path, key_path
