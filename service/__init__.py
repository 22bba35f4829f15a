"""The grading service: API, workers, sandbox runner and CLI.

The trusted process does small numeric work (expected values, checks) beside the
sandboxes that run student code; one BLAS thread keeps it from competing with them.
"""

import os as _os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")
