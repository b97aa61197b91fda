"""Manifests into the model: schema validation, boards, layers, fragments and the plan of
workspaces. Knows YAML and the layer search path, not Buildroot's tree.
"""
