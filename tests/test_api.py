import cmrseg


def test_every_public_name_resolves():
    missing = [name for name in cmrseg.__all__ if name != "__version__" and getattr(cmrseg, name, None) is None]
    assert missing == []
