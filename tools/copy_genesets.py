"""Copy the MSigDB Hallmark collection into the package: src/selfseed/data/genesets/.

Source (byte copy in ../shared/data, see its README.md): genesets/h.all.v2022.1.Hs.symbols.gmt, the MSigDB
Hallmark collection v2022.1.Hs (human gene symbols) as published by the GSEA-MSigDB GitHub organisation
(GSEA-MSigDB/GSEA2.jl @ d4dfc415, data/FeatureSetEnrichment/); MSigDB v2022.1 is CC BY 4.0.

Outputs: the .gmt file byte for byte, manifest.json (source, licence, citations, size, sha256, sets) and
README.md with the attribution.

    python tools/copy_genesets.py [--shared ../shared/data] [--out src/selfseed/data/genesets]
"""

import argparse
import hashlib
import json
from pathlib import Path

from selfseed.files import replaced

REPO = Path(__file__).resolve().parents[1]
GMT = "h.all.v2022.1.Hs.symbols.gmt"
SOURCE = {
    "repository": "GSEA-MSigDB/GSEA2.jl",
    "commit": "d4dfc415",
    "path": f"data/FeatureSetEnrichment/{GMT}",
    "collection": "MSigDB Hallmark gene sets (h.all), v2022.1.Hs, human gene symbols",
}
LICENCE = "CC BY 4.0 (MSigDB v2022.1 and later)"
CITATIONS = [
    "Liberzon A, Birger C, Thorvaldsdottir H, Ghandi M, Mesirov JP, Tamayo P. The Molecular Signatures "
    "Database (MSigDB) hallmark gene set collection. Cell Systems 2015;1(6):417-425.",
    "Subramanian A, Tamayo P, Mootha VK, et al. Gene set enrichment analysis: a knowledge-based approach "
    "for interpreting genome-wide expression profiles. PNAS 2005;102(43):15545-15550.",
]


def readme(manifest):
    lines = [
        "# Gene set collections",
        "",
        "Written by `tools/copy_genesets.py` (do not edit by hand); `manifest.json` lists each file with its",
        "source, licence, size and sha256.",
        "",
        f"`{GMT}`: the {SOURCE['collection']}",
        f"({manifest['sets']} gene sets), a byte copy of `{SOURCE['path']}`",
        f"in {SOURCE['repository']} @ {SOURCE['commit']} (the GSEA-MSigDB GitHub organisation). selfseed's",
        "pathway step (`selfseed.pathways`) tests it with `gseapy.prerank`.",
        "",
        f"Licence: {LICENCE}, https://creativecommons.org/licenses/by/4.0/.",
        "When you use it, cite:",
        "",
        *[f"- {citation}" for citation in CITATIONS],
        "",
        "Rebuild from the byte copy in `../shared/data`:",
        "",
        "    python tools/copy_genesets.py [--shared ../shared/data] [--out DIR]",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "selfseed" / "data" / "genesets")
    args = parser.parse_args()
    data = (args.shared / "genesets" / GMT).read_bytes()
    args.out.mkdir(parents=True, exist_ok=True)
    with replaced(args.out / GMT) as part:
        Path(part).write_bytes(data)
    manifest = {
        "copy_command": "python tools/copy_genesets.py --shared ../shared/data",
        "file": GMT,
        "source": SOURCE,
        "licence": LICENCE,
        "citations": CITATIONS,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sets": sum(1 for line in data.decode().splitlines() if line.strip()),
    }
    with replaced(args.out / "manifest.json") as part:
        Path(part).write_text(json.dumps(manifest, indent=2) + "\n")
    with replaced(args.out / "README.md") as part:
        Path(part).write_text(readme(manifest))
    print(f"{GMT}: {manifest['sets']} sets, sha256 {manifest['sha256']} -> {args.out}")


if __name__ == "__main__":
    main()
