"""The settings are found from the desk's sidebar (a Workspace the app ships), not only through
the search bar: Frappe syncs `<module>/workspace/<name>/<name>.json` on migrate."""

import json
from pathlib import Path

MODULE = Path(__file__).resolve().parents[1] / "raven_ai_agent" / "raven_ai_agent"


def test_the_workspace_links_the_settings_and_the_check_history_for_system_managers():
	[path] = (MODULE / "workspace").glob("*/*.json")
	assert path.stem == path.parent.name, "Frappe reads <name>/<name>.json"
	workspace = json.loads(path.read_text())
	assert workspace["doctype"] == "Workspace" and workspace["module"] == "Raven AI Agent"
	assert workspace["public"] == 1 and workspace["is_hidden"] == 0
	assert workspace["roles"] == [{"role": "System Manager"}]
	doctypes = {p.stem for p in (MODULE / "doctype").glob("*/*.json")}
	targets = {s["link_to"] for s in workspace["shortcuts"]} | {
		link["link_to"] for link in workspace["links"] if link["type"] == "Link"
	}
	assert targets == {"Raven Realtime Settings", "Raven Realtime Check"}
	names = {json.loads((MODULE / "doctype" / d / f"{d}.json").read_text())["name"] for d in doctypes}
	assert targets <= names
	blocks = json.loads(workspace["content"])
	shown = {b["data"].get("shortcut_name") for b in blocks if b["type"] == "shortcut"}
	assert shown == {s["label"] for s in workspace["shortcuts"]}, "every shortcut is placed on the page"
	cards = {b["data"]["card_name"] for b in blocks if b["type"] == "card"}
	assert cards == {link["label"] for link in workspace["links"] if link["type"] == "Card Break"}
