"""Test data: valid CPFs/CNPJs, installations and unit inputs."""

from __future__ import annotations

import random

from storage.models import UnitCreate


def _digit(digits: list[int], weights: list[int]) -> int:
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def make_cpf(rng: random.Random) -> str:
    base = [rng.randrange(10) for _ in range(9)]
    if len(set(base)) == 1:
        base[0] = (base[0] + 1) % 10
    base.append(_digit(base, list(range(10, 1, -1))))
    base.append(_digit(base, list(range(11, 1, -1))))
    return "".join(map(str, base))


def make_cnpj(rng: random.Random) -> str:
    base = [rng.randrange(10) for _ in range(8)] + [0, 0, 0, 1]
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    base.append(_digit(base, weights))
    base.append(_digit(base, [6, *weights]))
    return "".join(map(str, base))


def unit_in(n: int = 1, **overrides) -> UnitCreate:
    rng = random.Random(n)
    data = {
        "installation": f"30{n:08d}",
        "client_name": f"Cliente {n}",
        "holder_document": make_cpf(rng),
        "forward_to": [f"cliente{n}@example.com"],
    }
    data.update(overrides)
    return UnitCreate(**data)
