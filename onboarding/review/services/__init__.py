"""Writes of the production review: start it, fill in and submit stages (people, or the
portal for the stage it computes), decide them, and unlock production when all four are
approved. A package along those sections; import the services from here."""

from onboarding.review.services.decisions import decide_review_stage
from onboarding.review.services.portal import change_billing_profile, sync_portal_stages
from onboarding.review.services.stages import (
    SubmissionRefused,
    save_stage,
    save_stage_answers,
    start_production_review,
    submit_stage,
)

__all__ = ["SubmissionRefused", "change_billing_profile", "decide_review_stage", "save_stage",
           "save_stage_answers", "start_production_review", "submit_stage",
           "sync_portal_stages"]
