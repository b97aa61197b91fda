"""Verified sources: the hash audit, the locked download cache, the downloader and its
limits for untrusted servers, the lock file, and signed offline bundles.
"""
