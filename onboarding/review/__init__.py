"""The production review: four stages decided by platform reviewers, then production."""
