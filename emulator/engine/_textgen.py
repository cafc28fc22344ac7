"""Generated text (judge feedback, model responses): Faker seeded by the emulator seed.

Faker builds a pool of sentences once per seed; each row picks from it by its own hash, so
text is a pure function of (seed, row) and costs nothing per row.
"""

from __future__ import annotations

from functools import lru_cache

POOL_SIZE = 1024


@lru_cache(maxsize=16)
def sentence_pool(seed: int) -> tuple[str, ...]:
    from faker import Faker  # imported on first use: it is the slowest import of the server's start

    fake = Faker("en_US")
    fake.seed_instance(seed)
    return tuple(fake.sentence(nb_words=12) for _ in range(POOL_SIZE))


def sentences(seed: int, picks: int, count: int) -> str:
    """`count` sentences chosen by the integer `picks` (a row's hash)."""
    pool = sentence_pool(seed)
    chosen = []
    for _ in range(count):
        picks, index = divmod(picks, POOL_SIZE)
        chosen.append(pool[index])
    return " ".join(chosen)
