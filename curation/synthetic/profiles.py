"""What a registry of rare skin tumours looks like: the synthetic records' profiles.

Pure data for manage.py generate_synthetic (no Django): per diagnosis its
weight, age, sex, sites, IHC panel, fusions and differentials, and the words
the case texts are made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Profile:
    """How one diagnosis presents: weights and typical findings."""

    weight: int
    age: tuple[float, float]  # mean, standard deviation (years)
    female: float  # share of women
    sites: dict[str, int]  # topography code -> extra weight
    cell_types: list[str]
    depth: list[str]
    # Marker name -> chance of a positive result when stained, in panel order.
    panel: dict[str, float]
    # Chance that a fusion was tested and found, and the fusions (5', 3', weight);
    # a 5' gene of None is a break-apart FISH with the partner unknown.
    fusion_rate: float = 0.0
    fusions: list[tuple[str | None, str, int]] = field(default_factory=list)
    differentials: list[str] = field(default_factory=list)


ALK_PARTNERS = [
    ("TPM3", 20),
    ("TPM4", 14),
    ("CLTC", 10),
    ("RANBP2", 4),
    ("CARS1", 6),
    ("ATIC", 5),
    ("SEC31A", 5),
    ("PPFIBP1", 5),
    ("EML4", 4),
    ("DCTN1", 4),
    ("KLC1", 2),
    ("VCL", 2),
    ("SQSTM1", 2),
    ("LMNA", 2),
    ("TFG", 2),
    ("NPM1", 2),
]

PROFILES: dict[str, Profile] = {
    "inflammatory myofibroblastic tumor": Profile(
        10,
        (28, 17),
        0.55,
        {"C44.4": 6, "C44.3": 3, "C44.5": 3, "C44.7": 2, "C49.0": 2},
        ["spindle", "spindle", "mixed"],
        ["dermis", "dermis_subcutis"],
        {
            "ALK": 0.62,
            "SMA": 0.8,
            "desmin": 0.4,
            "CD34": 0.05,
            "S100": 0.03,
            "SOX10": 0.01,
            "pan-cytokeratin (AE1/AE3)": 0.1,
            "ROS1": 0.08,
            "pan-TRK": 0.04,
            "Ki-67": 1.0,
        },
        0.65,
        [(p, "ALK", w) for p, w in ALK_PARTNERS]
        + [(None, "ALK", 18), ("TFG", "ROS1", 4), ("ETV6", "NTRK3", 4), ("TPM3", "NTRK1", 2)],
        ["dermatofibroma", "nodular fasciitis", "benign fibrous histiocytoma"],
    ),
    "myofibroblastoma": Profile(
        2,
        (55, 14),
        0.4,
        {"C44.5": 4, "C49.3": 3, "C49.5": 2},
        ["spindle"],
        ["dermis_subcutis", "subcutis"],
        {"CD34": 0.9, "desmin": 0.85, "SMA": 0.5, "S100": 0.05, "Ki-67": 1.0},
        differentials=["nodular fasciitis", "dermatofibrosarcoma protuberans"],
    ),
    "myofibroblastic sarcoma": Profile(
        2,
        (45, 16),
        0.4,
        {"C44.3": 2, "C44.7": 3, "C49.2": 3},
        ["spindle", "pleomorphic"],
        ["dermis_subcutis", "deep"],
        {"SMA": 0.9, "desmin": 0.4, "CD34": 0.1, "h-caldesmon": 0.05, "Ki-67": 1.0},
        differentials=["inflammatory myofibroblastic tumor", "nodular fasciitis"],
    ),
    "nodular fasciitis": Profile(
        7,
        (35, 13),
        0.5,
        {"C44.6": 5, "C44.3": 3, "C44.5": 3, "C49.1": 2},
        ["spindle"],
        ["subcutis", "dermis_subcutis"],
        {"SMA": 0.95, "desmin": 0.08, "CD34": 0.05, "S100": 0.02, "h-caldesmon": 0.03},
        differentials=["inflammatory myofibroblastic tumor", "myofibroblastic sarcoma"],
    ),
    "benign fibrous histiocytoma": Profile(
        8,
        (38, 15),
        0.6,
        {"C44.7": 6, "C44.6": 3, "C44.5": 3},
        ["spindle", "mixed"],
        ["dermis"],
        {"factor XIIIa": 0.8, "CD68": 0.7, "CD163": 0.6, "CD34": 0.1, "SMA": 0.4},
        differentials=["dermatofibrosarcoma protuberans", "dermatofibroma"],
    ),
    "atypical fibrous histiocytoma": Profile(
        3,
        (40, 16),
        0.5,
        {"C44.7": 4, "C44.6": 2, "C44.5": 2},
        ["pleomorphic", "spindle"],
        ["dermis", "dermis_subcutis"],
        {"factor XIIIa": 0.6, "CD68": 0.7, "CD34": 0.1, "SMA": 0.3, "Ki-67": 1.0},
        differentials=["atypical fibroxanthoma", "dermatofibrosarcoma protuberans"],
    ),
    "dermatofibroma": Profile(
        14,
        (40, 14),
        0.65,
        {"C44.7": 8, "C44.6": 3, "C44.5": 2},
        ["spindle", "mixed"],
        ["dermis"],
        {"factor XIIIa": 0.85, "CD34": 0.05, "CD68": 0.6, "CD163": 0.6, "ALK": 0.02},
        differentials=["dermatofibrosarcoma protuberans", "inflammatory myofibroblastic tumor"],
    ),
    "dermatofibrosarcoma protuberans": Profile(
        12,
        (38, 14),
        0.5,
        {"C44.5": 8, "C44.6": 2, "C44.7": 2, "C44.4": 2},
        ["spindle"],
        ["dermis_subcutis", "subcutis", "deep"],
        {"CD34": 0.95, "factor XIIIa": 0.1, "S100": 0.02, "SMA": 0.1, "Ki-67": 1.0},
        0.45,
        [("COL1A1", "PDGFB", 95), (None, "PDGFB", 5)],
        ["dermatofibroma", "benign fibrous histiocytoma"],
    ),
    "melanoma": Profile(
        18,
        (60, 15),
        0.48,
        {"C44.5": 5, "C44.7": 3, "C44.3": 3, "C44.4": 2, "C44.6": 2},
        ["epithelioid", "mixed", "spindle"],
        ["dermis", "dermis_subcutis"],
        {
            "S100": 0.98,
            "SOX10": 0.97,
            "HMB-45": 0.7,
            "Melan-A": 0.8,
            "PRAME": 0.85,
            "pan-cytokeratin (AE1/AE3)": 0.02,
            "Ki-67": 1.0,
        },
        differentials=["spindle cell squamous cell carcinoma", "atypical fibroxanthoma"],
    ),
    "spindle cell melanoma": Profile(
        4,
        (66, 13),
        0.4,
        {"C44.3": 4, "C44.4": 4, "C44.5": 2},
        ["spindle"],
        ["dermis", "dermis_subcutis"],
        {"S100": 0.95, "SOX10": 0.95, "HMB-45": 0.2, "Melan-A": 0.3, "PRAME": 0.6},
        differentials=["atypical fibroxanthoma", "spindle cell squamous cell carcinoma"],
    ),
    "desmoplastic melanoma": Profile(
        4,
        (68, 12),
        0.35,
        {"C44.3": 5, "C44.4": 5, "C44.2": 1},
        ["spindle"],
        ["dermis_subcutis", "deep"],
        {"S100": 0.95, "SOX10": 0.97, "HMB-45": 0.05, "Melan-A": 0.1, "PRAME": 0.35},
        differentials=["atypical fibroxanthoma", "dermatofibroma"],
    ),
    "spindle cell squamous cell carcinoma": Profile(
        6,
        (72, 11),
        0.3,
        {"C44.3": 6, "C44.4": 4, "C44.2": 2, "C44.0": 2, "C44.6": 2},
        ["spindle", "pleomorphic"],
        ["dermis", "dermis_subcutis"],
        {
            "p63": 0.85,
            "p40": 0.8,
            "pan-cytokeratin (AE1/AE3)": 0.7,
            "high-molecular-weight cytokeratin": 0.8,
            "S100": 0.02,
            "SOX10": 0.02,
            "CD10": 0.3,
        },
        differentials=["atypical fibroxanthoma", "spindle cell melanoma"],
    ),
    "spindle cell carcinoma": Profile(
        2,
        (70, 12),
        0.4,
        {"C44.3": 3, "C44.5": 2},
        ["spindle"],
        ["dermis", "dermis_subcutis"],
        {"pan-cytokeratin (AE1/AE3)": 0.8, "p63": 0.6, "EMA": 0.5, "S100": 0.02},
        differentials=["spindle cell squamous cell carcinoma", "atypical fibroxanthoma"],
    ),
    "atypical fibroxanthoma": Profile(
        10,
        (76, 9),
        0.2,
        {"C44.3": 6, "C44.4": 6, "C44.2": 3},
        ["pleomorphic", "spindle", "mixed"],
        ["dermis"],
        {
            "CD10": 0.95,
            "CD68": 0.7,
            "pan-cytokeratin (AE1/AE3)": 0.01,
            "S100": 0.01,
            "SOX10": 0.01,
            "p63": 0.1,
            "SMA": 0.3,
            "desmin": 0.02,
        },
        differentials=["spindle cell squamous cell carcinoma", "desmoplastic melanoma"],
    ),
}

SITES: dict[str, list[str]] = {
    "C44.0": ["lower lip", "upper lip"],
    "C44.1": ["upper eyelid", "lower eyelid", "medial canthus"],
    "C44.2": ["helix", "earlobe", "preauricular skin"],
    "C44.3": ["cheek", "forehead", "nasal ala", "temple", "chin", "nasal tip"],
    "C44.4": ["scalp", "posterior scalp", "occipital scalp", "vertex", "neck"],
    "C44.5": ["upper back", "lower back", "chest wall", "abdomen", "shoulder", "flank"],
    "C44.6": ["forearm", "upper arm", "dorsum of hand", "finger", "elbow"],
    "C44.7": ["thigh", "lower leg", "knee", "dorsum of foot", "ankle", "shin"],
    "C44.8": ["overlapping sites"],
    "C44.9": [""],
}
CLONES = {"ALK": ["5A4", "D5F3", "ALK1"], "Ki-67": ["MIB-1"], "ROS1": ["D4D6"]}
PRESENTATIONS = [
    "Painless, slowly growing nodule.",
    "Firm, skin-coloured papule present for several months.",
    "Rapidly enlarging, ulcerated nodule.",
    "Tender subcutaneous mass.",
    "Pigmented plaque with recent change in size.",
    "Exophytic, bleeding lesion.",
    "Asymptomatic dermal nodule noticed by the patient.",
]
PATTERNS = ["fascicles", "storiform", "sheets", "haphazard", "nests", "whorled", "diffuse"]
BACKGROUNDS = [
    "prominent lymphoplasmacytic infiltrate",
    "scattered lymphocytes",
    "sparse inflammation",
    "mixed inflammatory infiltrate with eosinophils",
    "",
]
TREATMENTS = [
    "Complete excision.",
    "Wide local excision with clear margins.",
    "Mohs micrographic surgery.",
    "Excision followed by adjuvant radiotherapy.",
    "Excisional biopsy.",
]
DURATIONS = ["2 months", "6 months", "1 year", "3 years", "several weeks", ""]
# The status at last follow-up, and the course before it: (event, share of followed cases).
OUTCOMES = ["ned", "ned", "ned", "ned", "ned", "awd", "doc"]
COURSE = [("local_recurrence", 0.12), ("distant_metastasis", 0.05)]
DEATH_OF_DISEASE_SHARE = 0.03
LAST_NAMES = [
    "Abbott", "Baker", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Hansen",
    "Ito", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov",
    "Quinn", "Rossi", "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz",
    "Zhang", "Silva", "Müller", "Nakamura", "Kim",
]  # fmt: skip
FORE_NAMES = [
    "Anna", "Ben", "Chiara", "David", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
    "Kaori", "Luis", "Maya", "Nils", "Olga", "Pablo", "Rosa", "Sven", "Tara", "Yusuf",
]  # fmt: skip
