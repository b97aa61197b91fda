"""Release engineering: moving the pin, reproducibility checks and the nightly history.
"""
