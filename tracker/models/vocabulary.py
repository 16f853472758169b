"""The domain's fixed vocabularies: stored codes and the labels people read.

Codes are what the database stores; labels are what screens show. Order is the
order shown in selectors.
"""

from __future__ import annotations

from enum import StrEnum

# Roles ---------------------------------------------------------------------------------
CLINIC_ADMIN = "clinic_admin"
TECHNICIAN = "technician"
PATIENT = "patient"
ROLES = {CLINIC_ADMIN: "Clinic admin", TECHNICIAN: "Technician", PATIENT: "Patient"}
STAFF_ROLES = frozenset({CLINIC_ADMIN, TECHNICIAN})

# Treatments ----------------------------------------------------------------------------
TREATMENT_TYPES = {
    "micro_laser_peel": "Micro laser peel",
    "fractional_co2": "Fractional CO2",
    "erbium": "Erbium (Er:YAG)",
    "non_ablative": "Non-ablative laser",
    "other": "Other",
}

TREATED_AREAS = {
    "full_face": "Full face",
    "forehead": "Forehead",
    "periorbital": "Around the eyes",
    "perioral": "Around the mouth",
    "cheeks": "Cheeks",
    "nose": "Nose",
    "chin": "Chin",
    "neck": "Neck",
    "decollete": "Decolletage",
    "hands": "Hands",
    "other": "Other",
}

DEFAULT_PLANNED_SESSIONS = 3
DEFAULT_INTERVAL_DAYS = 91  # about three months

ANAESTHESIA = {
    "none": "None",
    "topical": "Topical numbing cream",
    "other": "Other (see notes)",
}

#: Complications clinics watch for after resurfacing, recorded per visit.
COMPLICATIONS = {
    "acne_flare": "Acne flare",
    "infection": "Infection",
    "cold_sore": "Cold-sore reactivation",
    "hyperpigmentation": "Hyperpigmentation",
    "hypopigmentation": "Hypopigmentation",
    "milia": "Milia",
    "prolonged_redness": "Prolonged redness",
    "scarring": "Scarring",
    "swelling": "Swelling",
}

# Visits --------------------------------------------------------------------------------
VISIT_TREATMENT = "treatment"
VISIT_FOLLOW_UP = "follow_up"
VISIT_KINDS = {VISIT_TREATMENT: "Treatment session", VISIT_FOLLOW_UP: "Follow-up visit"}

# Patients ------------------------------------------------------------------------------
FITZPATRICK = {
    1: "I - always burns, never tans",
    2: "II - usually burns, tans minimally",
    3: "III - sometimes burns, tans gradually",
    4: "IV - burns minimally, tans well",
    5: "V - rarely burns, tans deeply",
    6: "VI - never burns",
}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}

CONCERNS = {
    "fine_lines": "Fine lines and wrinkles",
    "acne_scars": "Acne scars",
    "chickenpox_scars": "Chickenpox scars",
    "age_spots": "Age or liver spots",
    "sun_spots": "Sun spots and freckles",
    "melasma": "Melasma",
    "hyperpigmentation": "Hyperpigmentation and blemishes",
    "sun_damage": "Sun damage",
    "redness": "Diffuse redness",
    "pores": "Enlarged pores",
    "texture": "Dull or rough texture",
    "laxity": "Laxity (sagging)",
    "oil_glands": "Enlarged oil glands on the nose",
}

CONSENT_PHOTOGRAPHY = "photography"
CONSENT_MARKETING = "marketing"
CONSENT_KINDS = {
    CONSENT_PHOTOGRAPHY: "Clinical photography",
    CONSENT_MARKETING: "Marketing use of photos",
}

# Photos --------------------------------------------------------------------------------
#: Left and right are the patient's own, as clinics name views: a left oblique or left
#: profile shows the patient's left cheek (in an unmirrored photo the nose points to the
#: image's left), and ``cheek_left`` is the patient's left cheek.
VIEW_CLOSEUP = "closeup"
VIEWS = {
    "front": "Front",
    "left_profile": "Left profile",
    "right_profile": "Right profile",
    "left_oblique": "Left oblique",
    "right_oblique": "Right oblique",
    VIEW_CLOSEUP: "Close-up",
}

#: Anatomical regions of a face photo, in the analysis's order (``regions`` of a result).
FACE_REGIONS = {
    "forehead": "Forehead",
    "cheek_left": "Left cheek",
    "cheek_right": "Right cheek",
    "nose": "Nose",
    "chin": "Chin",
    "perioral": "Around the mouth",
    "periorbital_left": "Around the left eye",
    "periorbital_right": "Around the right eye",
}

TIME_BEFORE = "before"
TIME_AFTER = "after"
TIME_FOLLOW_UP = "follow_up"
TIME_POINTS = {
    TIME_BEFORE: "Before treatment",
    TIME_AFTER: "After treatment",
    TIME_FOLLOW_UP: "Follow-up",
}

DERIVATIVES_PENDING = "pending"
DERIVATIVES_READY = "ready"
DERIVATIVES_FAILED = "failed"

# Analyses ------------------------------------------------------------------------------


class AnalysisState(StrEnum):
    """Where an ``analyses`` row is in its life: queued -> running -> done | refused | failed.

    The only place these names are written; :mod:`tracker.services.analysis.states` holds
    the transitions, the only code that changes a row's state.
    """

    QUEUED = "queued"
    RUNNING = "running"
    #: Measured; the result is stored.
    DONE = "done"
    #: The photo cannot be measured (quality check, unreadable, stale version); the reason is stored.
    REFUSED = "refused"
    #: The analysis broke (an error, or out of attempts); reanalysing tries again.
    FAILED = "failed"


ANALYSIS_STATES = tuple(AnalysisState)


def view_label(view: str, region: str = "") -> str:
    """"Front", or "Close-up: left cheek"."""
    label = VIEWS.get(view, view)
    return f"{label}: {region}" if view == VIEW_CLOSEUP and region else label


def time_point_label(time_point: str, days_after: int | None = None) -> str:
    """"Before treatment", "3 days after", "Follow-up"."""
    if time_point == TIME_AFTER:
        if days_after is None or days_after == 0:
            return "Right after treatment" if days_after == 0 else "After treatment"
        return f"{days_after} day{'s' if days_after != 1 else ''} after"
    return TIME_POINTS.get(time_point, time_point)
