"""`make bench`: scripts that time the addon against Odoo's own code in the same run.

Run from the repository root as `python -m benchmarks.bench_<name>` (tools/run_benchmarks.sh
does it, with the throwaway database and the Odoo settings in the environment). Nothing
here is imported by the addon.
"""
