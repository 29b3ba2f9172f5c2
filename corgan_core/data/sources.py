"""One example per data source, shown by ``corgan data inspect --help`` (and kept like README's table)."""

SOURCE_EXAMPLES = """\
sources (picked from the path, or named with --source):
  demo          corgan data inspect demo                                  (OMOP Eunomia, embedded)
  npz / npy     corgan data inspect mimic.npz
  csv / parquet corgan data inspect seizure.csv.gz --label-col y          (wide numeric table)
  mimic3        corgan data inspect ../shared/data/mimic3-demo
  mimic4        corgan data inspect mimic-iv/ --icd-version 10
  eicu          corgan data inspect ../shared/data/eicu-demo
  long          corgan data inspect events.csv --patient-col pid --code-cols code
  wide-codes    corgan data inspect diabetes.zip --patient-col patient_nbr --code-cols diag_1,diag_2,diag_3
  synthea       corgan data inspect synthea/csv/conditions.csv
  omop          corgan data inspect cdm.duckdb --domains condition,procedure --date-from 2010-01-01
  postgres      CORGAN_PG_PASSWORD=... corgan data inspect 'postgresql://me@db.example.org/ehr?schema=cdm'
                (or env:NAME for a URL kept in $NAME; --concepts 201826,4329847 keeps a concept set)
  meds          corgan data inspect meds-dataset/ --code-prefix ICD9CM/,ICD10CM/
"""
