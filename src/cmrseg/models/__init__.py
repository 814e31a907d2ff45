"""Network builders behind one name -> constructor registry."""

from cmrseg.models.registry import MODELS, ModelConfig, build_model

__all__ = ["MODELS", "ModelConfig", "build_model"]
