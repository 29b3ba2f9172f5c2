#!/usr/bin/env bash
# One GPU check of corGAN on Diabetes 130-US (issue 13, item 3): installs nothing, runs in well under
# 8 minutes on one H100/H200-class GPU, prints ONE JSON object on stdout (step times, epoch time, time
# to co-occurrence R^2 >= 0.95, evaluation time, peak GPU memory); progress and warnings go to stderr.
#
#   benchmarks/gpu_check.sh                      # device cuda, 240 s training budget
#   benchmarks/gpu_check.sh --device cpu --quick # the same code on 2,000 demo patients (a CPU test)
#
# Uses .venv/bin/python when there is one (else python3); extra arguments go to benchmarks/gpu_check.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
py="$root/.venv/bin/python"
[ -x "$py" ] || py="$(command -v python3)"
cd "$root"
# a hard stop below 8 minutes, so the check never runs past its slot
exec timeout --signal=TERM 470 "$py" "$here/gpu_check.py" "$@"
