# The two commands of the README, the set-up they share, and the benchmark.
.PHONY: run test setup bench

run:    ## Odoo with ingeneo_powens on http://127.0.0.1:8069 (Ctrl-C stops everything)
	bin/workbench run

test:   ## every test: Odoo cases and tours (pytest-odoo), then plain pytest
	bin/workbench test

setup:  ## install what is missing, nothing else
	bin/workbench setup

bench:  ## the benchmarks: the import, then a firm of 200 companies (fresh databases and sandboxes; about 75 minutes)
	bin/workbench bench
