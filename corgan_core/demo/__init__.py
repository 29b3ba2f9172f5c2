"""Embedded demo data: a processed sample of Diabetes 130-US (real, correlated records; CC BY 4.0).

See ``README.md`` in this folder for the licence, the attribution and the command that rebuilt it.
The OMOP Eunomia demo (``load("demo")``) stays as the OMOP example.
"""
from pathlib import Path

DIABETES_DEMO = Path(__file__).with_name("diabetes-130-us-sample.npz")
DIABETES_DEMO_LABEL = "Demo: Diabetes 130-US sample (real hospital records, 20,000 patients)"
EUNOMIA_DEMO_LABEL = "Demo: OMOP Eunomia (synthetic persons and their condition concepts)"
