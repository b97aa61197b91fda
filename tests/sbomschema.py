"""The CycloneDX 1.6 schema check for tests: cyclonedx-python-lib carries the schema.

That library is optional (``skiffbuild[sbom-check]``); scripts/setup installs it when the
package registry answers. Without it the schema check is skipped with this reason, and the
rest of each SBOM test still runs."""

from __future__ import annotations

import pytest

from skiffbuild.release.sbom import schema_errors

__all__ = ["assert_valid_cyclonedx"]


def assert_valid_cyclonedx(text: str) -> None:
    try:
        error = schema_errors(text)
    except ImportError:
        pytest.skip("cyclonedx-python-lib is not installed (pip install -e '.[sbom-check]'; "
                    "scripts/setup could not reach the package registry): the SBOM was not "
                    "checked against the CycloneDX 1.6 schema")
    assert error is None, error
