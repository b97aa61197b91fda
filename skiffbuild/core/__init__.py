"""Infrastructure every layer may use: errors and exit codes, atomic files and locks, the
process runner, the project's paths and settings, the code digest, bounded YAML, completion records.

Imports nothing from the other skiffbuild packages.
"""
