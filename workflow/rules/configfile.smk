# Runs before the Snakefile's `configfile:` reads config/config.yaml: a YAML error there stops with
# a message naming the line and what is wrong, not Snakemake's "not valid JSON or YAML ... tab
# indentation". (A file given with --configfile is read by Snakemake before the Snakefile.)
from selfseed.config import check_yaml_file

if not workflow.overwrite_configfiles:
    check_yaml_file("config/config.yaml")
