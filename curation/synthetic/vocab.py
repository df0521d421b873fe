"""The vocabulary the synthetic generator draws from: each diagnosis's profile
with its vocabulary ids looked up and its weights cumulated, once per run."""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass

from django.core.management.base import CommandError

from curation.models import Diagnosis, FusionFinding, Gene, Marker, Topography
from curation.synthetic.profiles import CLONES, PROFILES, SITES, Profile


@dataclass
class Fusion:
    five_prime_id: int | None
    three_prime_id: int
    three_prime: str
    method: str
    partner_status: str
    as_reported: str
    title: str  # " with COL1A1::PDGFB fusion"


@dataclass
class Entity:
    """One diagnosis's profile with its vocabulary ids and cumulative weights."""

    name: str
    id: int
    profile: Profile
    # (topography id, its site details) and their cumulative weights
    sites: list[tuple[int, list[str]]]
    site_weights: list[float]
    # (marker id, marker name, index in the profile's panel, chance of positive, clones)
    panel: list[tuple[int, str, int, float, list[str]]]
    fusions: list[Fusion]
    fusion_weights: list[float]
    differential_ids: list[int]


class Vocab:
    """The vocabulary rows the generator draws from, looked up once."""

    def __init__(self):
        diagnoses = {name.lower(): pk for name, pk in Diagnosis.objects.values_list("name", "pk")}
        topography = {
            code: (pk, name)
            for pk, code, name in Topography.objects.values_list("pk", "code", "name")
        }
        genes = dict(Gene.objects.values_list("symbol", "pk"))
        markers = dict(Marker.objects.values_list("name", "pk"))
        if not topography or not any(name in diagnoses for name in PROFILES):
            raise CommandError(
                "The vocabularies are empty: run `manage.py migrate` (it loads them) first."
            )
        self.entities = [
            _entity(name, profile, diagnoses, topography, genes, markers)
            for name, profile in PROFILES.items()
            if name in diagnoses
        ]
        self.weights = list(itertools.accumulate(e.profile.weight for e in self.entities))


def _entity(name, profile, diagnoses, topography, genes, markers) -> Entity:
    site_weights = {code: 1 for code in topography if code.startswith("C44")}
    for code, extra in profile.sites.items():
        if code in topography:
            site_weights[code] = site_weights.get(code, 0) + extra * 3
    fusions, weights = [], []
    for five, three, weight in profile.fusions:
        if three not in genes or (five and five not in genes):
            continue
        fusions.append(
            Fusion(
                five_prime_id=genes[five] if five else None,
                three_prime_id=genes[three],
                three_prime=three,
                method=(
                    FusionFinding.Method.RNA_SEQ if five else FusionFinding.Method.FISH_BREAK_APART
                ).value,
                partner_status=(
                    FusionFinding.PartnerStatus.KNOWN
                    if five
                    else FusionFinding.PartnerStatus.UNKNOWN
                ).value,
                as_reported=f"{five}-{three}" if five else f"{three} break-apart",
                title=f" with {five}::{three} fusion" if five else f" with {three} rearrangement",
            )
        )
        weights.append(weight)
    return Entity(
        name=name,
        id=diagnoses[name],
        profile=profile,
        sites=[
            (topography[code][0], SITES.get(code) or [topography[code][1].lower()])
            for code in site_weights
        ],
        site_weights=list(itertools.accumulate(site_weights.values())),
        panel=[
            (markers[marker], marker, index, chance, CLONES.get(marker, []))
            for index, (marker, chance) in enumerate(profile.panel.items())
            if marker in markers
        ],
        fusions=fusions,
        fusion_weights=list(itertools.accumulate(weights)),
        differential_ids=[diagnoses[d] for d in profile.differentials if d in diagnoses],
    )


class FastRandom(random.Random):
    """random.Random whose choice() and randrange() take one random() each.

    A third of the library's cost (it draws bits until a value fits, for an
    exactly even choice); the bias of int(random() * n), below 1e-15, does
    not show in synthetic records. Still reproducible from the seed.
    """

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None):
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


def draw(rng: random.Random, options: list, cumulative: list[float]):
    """One of `options`, weighted (random.choices's cum_weights, without its overhead)."""
    return options[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
