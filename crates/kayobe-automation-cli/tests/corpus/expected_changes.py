"""The variables config-diff must report, computed the way Ansible sees them.

Reads a JSON manifest on stdin: {"password_file": PATH, "pairs": [{"base":
SIDE, "target": SIDE}]}, each SIDE {"inventory": PATH, "config": DIR}:
`inventory` holds `ansible-inventory --list` of the revision, `config` its
configuration directory. Prints, per pair, {HOST: [VARIABLE]} for every host
whose variables differ: added, removed or changed top-level names.

A host's variables are what Kayobe's playbooks see before templating: its
inventory variables (ansible-inventory, the oracle), then every extra-vars
file Kayobe passes with `-e @FILE` (the configuration directory's `*.yml`,
`*.yaml` and `*.json` files, sorted, later files winning), loaded by
Ansible's own DataLoader with the vault password; plus `group_names` and
`kayobe_config_path`, as Ansible and Kayobe set them.
"""

import json
import os
import sys

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret

EXTRA_VARS_EXTENSIONS = (".yml", ".yaml", ".json")


def loader(password_file):
    with open(password_file, "rb") as f:
        password = f.read().strip()
    data_loader = DataLoader()
    data_loader.set_vault_secrets([("default", VaultSecret(password))])
    return data_loader


def extra_vars(data_loader, config):
    names = sorted(
        name
        for name in os.listdir(config)
        if name.endswith(EXTRA_VARS_EXTENSIONS)
        and os.path.isfile(os.path.join(config, name))
    )
    merged = {}
    for name in names:
        document = data_loader.load_from_file(os.path.join(config, name))
        if isinstance(document, dict):
            merged.update(document)
    return merged


def group_names(inventory):
    """Host -> the groups holding it directly or through child groups."""
    parents = {}
    for group, body in inventory.items():
        if group == "_meta" or not isinstance(body, dict):
            continue
        for child in body.get("children", []):
            parents.setdefault(child, set()).add(group)
    names = {}
    for group, body in inventory.items():
        if group == "_meta" or not isinstance(body, dict):
            continue
        for host in body.get("hosts", []):
            todo, seen = [group], set()
            while todo:
                name = todo.pop()
                if name in seen:
                    continue
                seen.add(name)
                todo.extend(parents.get(name, ()))
            names.setdefault(host, set()).update(seen - {"all"})
    return {host: sorted(groups) for host, groups in names.items()}


def side_variables(data_loader, side):
    with open(side["inventory"]) as f:
        inventory = json.load(f)
    extra = extra_vars(data_loader, side["config"])
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    hosts = {}
    for host, groups in group_names(inventory).items():
        variables = {"kayobe_config_path": "etc/kayobe"}
        variables.update(hostvars.get(host, {}))
        variables.update(extra)
        variables["group_names"] = groups
        hosts[host] = variables
    return hosts


def changed_names(base, target):
    hosts = {}
    for host in sorted(set(base) | set(target)):
        old, new = base.get(host, {}), target.get(host, {})
        names = sorted(
            name
            for name in set(old) | set(new)
            if name not in old or name not in new or old[name] != new[name]
        )
        if names:
            hosts[host] = names
    return hosts


def main():
    manifest = json.load(sys.stdin)
    data_loader = loader(manifest["password_file"])
    result = [
        changed_names(
            side_variables(data_loader, pair["base"]),
            side_variables(data_loader, pair["target"]),
        )
        for pair in manifest["pairs"]
    ]
    json.dump(result, sys.stdout)


main()
