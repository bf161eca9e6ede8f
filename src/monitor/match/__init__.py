"""Matching: items x themes -> matches with score and evidence: `rules` (the rule matcher) and `model` (a trained
model's scoring beside it). Words and stems come from `text`."""
