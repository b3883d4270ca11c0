"""The top layer: the notebooks executed into immutable, versioned run folders (:mod:`.suite`), the
command line for people and schedulers (:mod:`.cli`), and the stored outputs nbval compares
(:mod:`.notebook_outputs`)."""

import sys

# jsonschema, which nbformat validates notebooks with, imports the optional IRI checker rfc3987-syntax when it is
# installed (JupyterLab's dependencies bring it); it compiles a grammar on import, about 1.4 s of every run's
# start. Notebook validation checks no IRI format, so the runner goes without it.
sys.modules.setdefault("rfc3987_syntax", None)
