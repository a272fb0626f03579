"""Synthetic customers whose true response is known: block-seeded streams and the simulators, one module
each (importing one loads only what it uses: a scenario reads its world's settings module alone)."""
