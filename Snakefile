from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/configfile.smk"


# config/config.yaml, unless config files are given with --configfile: then they are the whole
# config (`snakemake --configfile config/examples/<file>` runs that example alone).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/download.smk"
include: "workflow/rules/cells_common.smk"
include: "workflow/rules/cohort.smk"
include: "workflow/rules/singlecell.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
