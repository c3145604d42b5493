"""config/README.md's key tables and preset rules, written from where they are defined.

    python tools/config_docs.py [--write]

The key tables come from workflow/schemas/config.schema.yaml (each key's description, default,
whether it is required, and for a cohort the source it belongs to); the preset rules from the
docstring of src/selfseed/presets.py. Each block sits in config/README.md between
`<!-- config_docs: NAME -->` and `<!-- /config_docs: NAME -->`. Without --write the tool lists the
blocks that differ from the README and exits 1 if any does; with --write it replaces them.
tests/test_config.py checks that the committed README is what this tool writes.
"""

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PRESETS = REPO / "src" / "selfseed" / "presets.py"
README = REPO / "config" / "README.md"
RULES_START = "TCGA Pan-Cancer Clinical Data Resource"  # where the rules begin in the docstring


def markers(name):
    return f"<!-- config_docs: {name} -->", f"<!-- /config_docs: {name} -->"


def resolve(schema, node):
    """`node`, or the definition its $ref points to."""
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def value(default):
    """A default as YAML would write it in a config."""
    if default is None:
        return "null"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, list):
        return "[" + ", ".join(value(v) for v in default) + "]"
    if isinstance(default, dict):
        return "{" + ", ".join(f"{k}: {value(v)}" for k, v in default.items()) + "}"
    return str(default) if default != "" else '""'


def meaning(key, node):
    """The key's description, checked to name each allowed value in `backticks`."""
    text = node.get("description")
    if not text:
        raise ValueError(f"config key {key} has no description in {SCHEMA.name}")
    allowed = node.get("enum", node.get("items", {}).get("enum", []))
    missing = [v for v in allowed if f"`{v}`" not in text]
    if missing:
        raise ValueError(f"the description of {key} does not name {missing} in `backticks`")
    return text


def key_rows(schema, properties, required=(), prefix=""):
    """(key, default column, meaning) for each key and, below an object or a list of objects, its
    keys (`scoring.methods`, `covariates[].name`)."""
    rows = []
    for name, node in properties.items():
        key = f"{prefix}{name}"
        node = {**resolve(schema, node), **{k: v for k, v in node.items() if k != "$ref"}}
        inner = resolve(schema, node.get("items", {})) if node.get("type") == "array" else node
        if name in required:
            default = "required"
        elif node.get("default") == {} and "properties" in node:
            default = "keys below"
        elif "default" in node:
            default = f"`{value(node['default'])}`"
        else:
            default = "—"
        rows.append((key, default, meaning(key, node)))
        if "properties" in inner:
            below = f"{key}[]." if inner is not node else f"{key}."
            rows += key_rows(schema, inner["properties"], inner.get("required", ()), below)
    return rows


def cell(text):
    return text.replace("|", "\\|")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        first, *rest = row
        lines.append("| " + " | ".join([f"`{first}`", *map(cell, rest)]) + " |")
    return "\n".join(lines)


def cohort_rows(schema):
    """(key, sources, default, meaning): the keys every cohort has, then each source's own."""
    cohort = schema["$defs"]["cohort"]
    rows = [
        (k, "all", d, m) for k, d, m in key_rows(schema, cohort["properties"], cohort["required"])
    ]
    for branch in cohort["allOf"]:
        source = branch["if"]["properties"]["source"]["const"]
        then = branch["then"]
        either = [key for option in then.get("oneOf", []) for key in option["required"]]
        for key, default, text in key_rows(schema, then["properties"], then.get("required", ())):
            if key in either:
                default = "one of " + ", ".join(f"`{k}`" for k in either)
            rows.append((key, source, default, text))
    return rows


def preset_rules(path=PRESETS):
    """The preset rules as src/selfseed/presets.py's docstring states them, in Markdown."""
    doc = ast.get_docstring(ast.parse(Path(path).read_text()))
    rules = doc[doc.index(RULES_START) :]
    return re.sub(r"``([^`]+)``", r"`\1`", rules)


def blocks(schema_path=SCHEMA, presets_path=PRESETS):
    """Block name -> its text between the markers."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    top = {k: v for k, v in schema["properties"].items() if k != "download"}
    endpoint = schema["$defs"]["generic_endpoint"]
    preset = schema["$defs"]["preset_endpoint"]
    reference = schema["$defs"]["reference"]
    header = ("key", "default", "meaning")
    return {
        "top-level": table(header, key_rows(schema, top, schema["required"])),
        "cohort": table(("key", "sources", "default", "meaning"), cohort_rows(schema)),
        "downloads": table(
            header, key_rows(schema, {"download": schema["properties"]["download"]})
        ),
        "endpoint": table(header, key_rows(schema, endpoint["properties"], endpoint["required"])),
        "presets": table(header, key_rows(schema, preset["properties"], preset["required"])),
        "singlecell-reference": table(
            header, key_rows(schema, reference["properties"], reference["required"])
        ),
        "preset-rules": preset_rules(presets_path),
    }


def rendered(readme_text, new_blocks):
    """The README with each block between its markers replaced."""
    for name, text in new_blocks.items():
        start, end = markers(name)
        if readme_text.count(start) != 1 or readme_text.count(end) != 1:
            raise ValueError(f"config/README.md needs one '{start}' and one '{end}'")
        before, rest = readme_text.split(start)
        _, after = rest.split(end)
        readme_text = f"{before}{start}\n{text}\n{end}{after}"
    return readme_text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the blocks in the README")
    args = parser.parse_args(argv)
    text = README.read_text()
    new = rendered(text, blocks())
    if args.write:
        README.write_text(new)
        return 0
    stale = [name for name, block in blocks().items() if rendered(text, {name: block}) != text]
    for name in stale:
        print(f"config/README.md: block {name} is not what {Path(__file__).name} writes")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
