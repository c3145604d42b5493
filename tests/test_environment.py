"""environment.yml (conda) and requirements.txt (pip/uv) must install the same stack."""

import re

import yaml

from conftest import REPO


def pip_pins():
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def conda_pins():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pins = {}
    for item in environment["dependencies"]:
        specs = item["pip"] if isinstance(item, dict) else [item]
        for spec in specs:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*==?\s*([^\s=]+)", spec)
            if match and match.group(1) != "python":
                pins[match.group(1).lower()] = match.group(2)
    return pins


def test_conda_and_pip_name_the_same_packages_and_versions():
    assert conda_pins() == pip_pins()


def test_environment_installs_the_package_itself():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(
        item["pip"] for item in environment["dependencies"] if isinstance(item, dict)
    )
    assert "-e ." in pip_section
