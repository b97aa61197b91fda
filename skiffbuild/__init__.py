"""skiffbuild: reproducible Buildroot firmware images from ordered YAML layers, driven by doit."""

__version__ = "0.1.0"
__all__ = ["__version__"]
