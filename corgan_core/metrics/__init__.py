"""Fidelity, utility and privacy metrics: pure functions on dense or scipy.sparse matrices.

Each function takes plain arrays (patients x codes; a Dataset is accepted too) and returns a small
result dataclass with ``to_dict()``. :func:`evaluate` runs them all into a
:class:`~corgan_core.report.Report`, with 95% intervals, real-data ceilings, independent floors
and pass / fail / inconclusive verdicts (:mod:`corgan_core.verdict`). Randomness comes only from explicit ``seed`` arguments; bad
input raises :class:`~corgan_core.errors.DataError` with one sentence.
"""
from .attribute import AttributeInference, attribute_inference
from .baseline import independent_baseline
from .classifier import MODELS, ClassifierFidelity, classifier_fidelity
from .cooccurrence import CoOccurrence, cooccurrence
from .copies import ExactCopies, RecordUniqueness, exact_copies, record_uniqueness
from .dcr import DistanceToClosestRecord, distance_to_closest_record, nndr
from .discriminator import Discriminator, discriminator_score
from .evaluate import PARTS, evaluate
from .frequency import DimensionWiseProbability, dimension_wise_probability
from .membership import MembershipInference, membership_auroc, membership_inference
from .neighbours import Neighbours, closest_distances, nearest_neighbours, unique_rows
from .prediction import DimensionWisePrediction, dimension_wise_prediction
from .structure import OddsRatioAgreement, odds_ratio_agreement

__all__ = [
    "evaluate", "PARTS", "independent_baseline",
    "dimension_wise_probability", "DimensionWiseProbability", "cooccurrence", "CoOccurrence",
    "dimension_wise_prediction", "DimensionWisePrediction", "classifier_fidelity", "ClassifierFidelity", "MODELS",
    "discriminator_score", "Discriminator",
    "nearest_neighbours", "closest_distances", "unique_rows", "Neighbours",
    "membership_inference", "MembershipInference", "membership_auroc", "odds_ratio_agreement", "OddsRatioAgreement", "distance_to_closest_record", "DistanceToClosestRecord", "nndr",
    "exact_copies", "ExactCopies", "record_uniqueness", "RecordUniqueness",
    "attribute_inference", "AttributeInference",
]
