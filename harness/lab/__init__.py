"""The flood lab (issue 5): `python3 -m harness.lab flood|bench|exp|report`.

    cli.py          argument parsing (pure)
    core.py         Lab: one guest on a tap, pinned; one measured run
    sweep.py        the `flood` and `bench` commands
    experiments.py  the four experiments (`exp`), also used by pytest
    table.py        text tables (pure)
    results.py      CSV / JSON / PNG files under build/results/

Accounting lives in harness/accounting.py, plots in harness/plots.py, the
HTML report in harness/report.py.
"""
