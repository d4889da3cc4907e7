"""Fleet scans: many sites from one FLEET.yaml, each scanned as `cookie-scanner scan` would, in a
bounded pool of local worker processes, with a fleet summary and a portfolio dashboard.

    fleet = load_fleet("fleet.yaml")            # FleetError (exit 2) names the file and the problem
    results = run_local(fleet, out, workers=2)   # one report folder per site
    write_summary(results, out, store=None)      # fleet.json, fleet.csv, dashboard.html
"""
from __future__ import annotations

from .local import run_local
from .spec import Fleet, FleetError, SiteJob, load_fleet
from .summary import write_summary

__all__ = ["Fleet", "FleetError", "SiteJob", "load_fleet", "run_local", "write_summary"]
