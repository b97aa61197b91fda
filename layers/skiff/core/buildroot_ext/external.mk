# skiff/core adds no Buildroot packages.
