"""Personal models: each user's recognizer, fine-tuned on the lines they corrected.

`services` (web processes: start a fine-tune, choose a version, list them), `training` (the
`training` cluster: export, fine-tune, measure, promote), `views` (the "Your handwriting"
page) and `api` (the same for API clients).
"""
