"""Pathway context of the genome-wide ranking: `gseapy.prerank` of the genes ranked by their
cause-specific score-test z (selfseed.stats.genomewide) against the MSigDB Hallmark collection
shipped in src/selfseed/data/genesets/ (v2022.1.Hs, CC BY 4.0) or a user's GMT, with the
self-seeding signature tested beside them as a gene set; where the signature genes stand in the
ranking; the enrichment plot.

Genes are ranked by decreasing z, so a positive NES is a set whose genes go with a higher hazard of
the event of interest. gseapy's permutations shuffle gene labels (prerank), seeded by `seed`; the
nominal p, FDR and FWER come from `permutations` of them, and the FDR is over all sets tested in
the one call (the collection and the signatures together).
"""

from importlib.resources import files

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError
from selfseed.signatures import read_gmt

HALLMARK = "h.all.v2022.1.Hs.symbols.gmt"
PERMUTATIONS = 250  # the default run's cost at 0-1000: benchmarks/README.md, "Genome-wide ranking"
SEED = 0
MIN_SIZE, MAX_SIZE = 5, 500  # 5: the self-seeding set; gseapy's default min_size 15 would drop it
COLUMNS = [
    "set",
    "collection",
    "genes",
    "in_ranking",
    "es",
    "nes",
    "nominal_p",
    "fdr",
    "fwer_p",
    "leading_edge",
    "leading_edge_size",
    "permutations",
    "seed",
    "note",
]

P_VALUES = {
    "nominal_p": "NOM p-val",
    "fdr": "FDR q-val",
    "fwer_p": "FWER p-val",
}  # none without permutations


def p_text(p, permutations):
    """A permutation p as text: 0 means below 1 / permutations."""
    return f"< {1 / permutations:.2g}" if p == 0 else f"{p:.2g}"


def hallmark_path():
    """The shipped MSigDB Hallmark collection (src/selfseed/data/genesets/README.md)."""
    return files("selfseed") / "data" / "genesets" / HALLMARK


def collection(signatures, gmt=None):
    """The gene sets to test: the Hallmark collection (or the sets of the .gmt file `gmt`), then
    `signatures` ({name: genes}). Returns ({name: genes}, {name: source}); a signature named as a
    set of the collection is an error."""
    path = gmt or hallmark_path()
    sets = read_gmt(path)
    source = dict.fromkeys(sets, "Hallmark v2022.1.Hs" if gmt is None else str(gmt))
    for name, genes in signatures.items():
        if name.lower() in {s.lower() for s in sets}:
            raise ConfigError(
                "a signature has the name of a gene set of the collection",
                file=str(path),
                key=f"signatures.{name}",
                found=name,
                fix="rename the signature or the gene set",
            )
        sets[name], source[name] = list(genes), "signature"
    return sets, source


def ranked(ranking):
    """Genes (index) by decreasing z (values), ties by name; genes without a z are left out."""
    frame = ranking.dropna().rename_axis("gene").rename("z").reset_index()
    frame = frame.sort_values(["z", "gene"], ascending=[False, True])
    return frame.set_index("gene")["z"]


def prerank(
    ranking,
    sets,
    sources=None,
    *,
    permutations=PERMUTATIONS,
    seed=SEED,
    min_size=MIN_SIZE,
    max_size=MAX_SIZE,
    threads=1,
):
    """`gseapy.prerank` of `ranking` (Series gene -> z) against `sets` ({name: genes}).

    Returns (table, gseapy's Prerank result): one row per set with its size, genes in the ranking,
    ES, NES, nominal p, FDR q, FWER p and leading-edge genes (';'-joined), the permutation count
    and seed; a set gseapy did not test (fewer than `min_size` or more than `max_size` genes in the
    ranking) has the reason in `note`."""
    import gseapy

    if int(permutations) != permutations or permutations < 1:
        raise ValueError(
            f"permutations must be a whole number >= 1 (NES and p need them), not {permutations!r}"
        )
    genes = ranked(ranking)
    result = gseapy.prerank(
        genes,
        sets,
        permutation_num=permutations,
        seed=seed,
        min_size=min_size,
        max_size=max_size,
        threads=threads,
        outdir=None,
        no_plot=True,
        verbose=False,
    )
    tested = result.res2d.set_index("Term")
    rows = []
    for name, members in sets.items():
        present = len(set(members) & set(genes.index))
        row = {
            "set": name,
            "collection": (sources or {}).get(name, ""),
            "genes": len(set(members)),
            "in_ranking": present,
            "permutations": permutations,
            "seed": seed,
        }
        if name not in tested.index:
            reason = f"not tested: {present} genes in the ranking, outside {min_size}-{max_size}"
            rows.append({**row, "note": reason})
            continue
        fit = tested.loc[name]
        leading = [g for g in str(fit.get("Lead_genes", "")).split(";") if g]
        rows.append(
            {
                **row,
                "es": float(fit["ES"]),
                "nes": float(fit["NES"]),
                **{key: float(fit.get(column, np.nan)) for key, column in P_VALUES.items()},
                "leading_edge": ";".join(leading),
                "leading_edge_size": len(leading),
                "note": "",
            }
        )
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    order = table.assign(size=-table["nes"].abs()).sort_values(["fdr", "size", "set"]).index
    return table.loc[order].reset_index(drop=True), result


def gene_standing(ranking, genes):
    """Where `genes` stand in `ranking` (Series gene -> z): DataFrame[gene, z, rank, of,
    percentile, note], rank 1 = highest z, percentile = 100 x the share of ranked genes whose z is
    at or below the gene's (100: the top)."""
    z = ranking.dropna()
    rows = []
    for gene in genes:
        if gene not in z.index:
            rows.append({"gene": gene, "of": len(z), "note": "not in the ranking"})
            continue
        value = z[gene]
        rows.append(
            {
                "gene": gene,
                "z": float(value),
                "rank": int((z > value).sum()) + 1,
                "of": len(z),
                "percentile": 100 * float((z <= value).mean()),
                "note": "",
            }
        )
    return pd.DataFrame(rows).reindex(columns=["gene", "z", "rank", "of", "percentile", "note"])


def signature_sentence(table, standing, name, alpha=0.05):
    """The plain answer: where the signature's genes stand in the ranking, and whether the
    signature, tested as a gene set by prerank, is enriched. It is one pre-specified hypothesis, so
    the verdict is its nominal p (< `alpha`); the FDR q, over all sets tested, is given beside it.
    A nominal p within about 2 Monte-Carlo SDs of `alpha` is said to be unsettled."""
    places = ", ".join(
        f"{row.gene} {row.percentile:.0f}" if not row.note else f"{row.gene} not ranked"
        for row in standing.itertuples()
    )
    text = (
        f"In the genome-wide ranking of {standing['of'].iloc[0]} genes by their cause-specific "
        f"score-test z, the {name} genes stand at percentiles {places} (100: the top)"
    )
    row = table.set_index("set").loc[name]
    if row["note"]:
        return f"{text}; the {name} set was {row['note']}."
    direction = "higher" if row["nes"] > 0 else "lower"
    verdict = (
        f"enriched among the genes that go with a {direction} hazard (nominal p < {alpha:g})"
        if row["nominal_p"] < alpha
        else f"not enriched (nominal p >= {alpha:g})"
    )
    # about half the permutations give an ES of the observed sign: the nominal p's denominator
    spread = 2 * np.sqrt(alpha * (1 - alpha) / (row["permutations"] / 2))
    if abs(row["nominal_p"] - alpha) < spread:
        verdict += (
            f", but {row['permutations']} permutations cannot settle it (a nominal p near "
            f"{alpha:g} is this precise to about +/-{spread:.2g}): run more"
        )
    p, q = (p_text(row[k], row["permutations"]) for k in ("nominal_p", "fdr"))
    return (
        f"{text}. Tested as a gene set by prerank ({int(row['in_ranking'])} genes, "
        f"{row['permutations']} permutations, seed {row['seed']}), the {name} set has NES "
        f"{row['nes']:.2f}, nominal p {p} (FDR q {q} over the "
        f"{int((table['note'] == '').sum())} sets tested): {verdict}."
    )


def enrichment_plot(result, table, path, *, title, highlight=("self_seeding",), top=4):
    """Running enrichment score of the `top` tested sets (by FDR, then |NES|) and of the
    `highlight` sets, one panel each, with the positions of the set's genes in the ranking; PNG at
    150 dpi (and SVG on request: selfseed.plots.save)."""
    from selfseed.plots import OKABE_ITO, axes_title, axis_labels, figure, save

    tested = table[table["note"] == ""]
    names = list(
        dict.fromkeys(
            [*tested["set"].head(top), *[h for h in highlight if h in set(tested["set"])]]
        )
    )
    rows = max(len(names), 1)
    height, width = 1.6 * rows + 0.6, 5.0
    fig = figure(figsize=(width, height))
    grid = fig.add_gridspec(
        rows,
        1,
        top=1 - 0.55 / height,
        bottom=0.5 / height,
        left=0.7 / width,
        right=1 - 0.15 / width,
        hspace=0.75,
    )
    genes = len(result.ranking)
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[i])
        detail, row = result.results[name], tested.set_index("set").loc[name]
        colour = OKABE_ITO["vermillion"] if name in highlight else OKABE_ITO["blue"]
        ax.plot(np.arange(genes), detail["RES"], color=colour, lw=1.0)
        ax.axhline(0, color=OKABE_ITO["grey"], lw=0.5)
        low = min(np.min(detail["RES"]), 0)
        span = max(np.max(detail["RES"]), 0) - low
        ax.vlines(
            detail["hits"], low - 0.22 * span, low - 0.05 * span, color=OKABE_ITO["black"], lw=0.4
        )
        ax.set_xlim(0, genes)
        ax.set_ylim(low - 0.25 * span, low + 1.08 * span)
        p, q = (p_text(row[k], row["permutations"]) for k in ("nominal_p", "fdr"))
        axes_title(ax, f"{name}: NES {row['nes']:.2f}, nominal p {p}, FDR q {q}", fontsize=7.5)
        axis_labels(ax, "gene rank (highest z first)" if i == rows - 1 else None, "running ES")
    if not names:
        ax = fig.add_subplot(grid[0])
        ax.text(0.5, 0.5, "no gene set was tested", ha="center", va="center")
        ax.set_axis_off()
    fig.suptitle(title, fontsize=8.5, y=1 - 0.12 / height)
    save(fig, path)
