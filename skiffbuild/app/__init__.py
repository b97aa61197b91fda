"""Entry points: the ``skiffbuild`` command, the offline try-out and the test-tree repository.
"""
