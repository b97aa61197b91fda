#!/bin/sh
# real/tiny post-build hook: $1 is Buildroot's target directory.
# Writes /etc/skiff-tiny-postbuild from what the hook got: the layer name from
# skiffbuild ($SKIFFBUILD_LAYER) and values read from Buildroot's $TARGET_DIR.
set -eu

target=$1
hostname=$(cat "${TARGET_DIR:?TARGET_DIR is not set}/etc/hostname")
# VERSION is BR2_VERSION_FULL: it ends in -dirty when a patch series was applied.
version=$(sed -n 's/^VERSION=//p' "$TARGET_DIR/usr/lib/os-release" | tr -d '"')

cat > "$target/etc/skiff-tiny-postbuild" <<POSTBUILD
skiff-tiny-postbuild: layer=${SKIFFBUILD_LAYER:-unset}
skiff-tiny-postbuild: target hostname=$hostname buildroot=$version
POSTBUILD
chmod 644 "$target/etc/skiff-tiny-postbuild"
