"""Matching: items x themes -> matches with score and evidence. `terms` (words and the analysts' term syntax),
`stemming` (stems per language), `rules` (the rule matcher), `model` (a trained model's scoring beside it)."""
