"""The top layer: the notebooks executed into immutable, versioned run folders (:mod:`.suite`), the
command line for people and schedulers (:mod:`.cli`), and the stored outputs nbval compares
(:mod:`.notebook_outputs`)."""
