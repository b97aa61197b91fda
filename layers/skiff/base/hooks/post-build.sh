#!/bin/sh
# skiff/base post-build hook: $1 is Buildroot's target directory.
# Writes /etc/skiff-release and creates the /mnt/persist mount point (the root
# filesystem is read-only at run time). Deterministic: no dates, no host names.
set -eu

target=$1

mkdir -p "$target/mnt/persist"

# Buildroot's own os-release carries the Buildroot version (VERSION_ID).
version=unknown
if [ -f "$target/usr/lib/os-release" ]; then
    version=$(sed -n 's/^VERSION_ID=//p' "$target/usr/lib/os-release" | tr -d '"')
fi

cat > "$target/etc/skiff-release" <<RELEASE
NAME=skiffbuild
ID=skiffbuild
BUILDROOT_VERSION=$version
PERSIST_MOUNT=/mnt/persist
RELEASE
