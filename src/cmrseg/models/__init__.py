"""Networks and model files: :mod:`~cmrseg.models.registry` (name -> constructor),
:mod:`~cmrseg.models.bundle` (weights + configs in one file), :mod:`~cmrseg.models.shipped`
(the models in the package, no torch import), :mod:`~cmrseg.models.export`."""
