#!/bin/sh
# pi/common post-image hook: $1 is Buildroot's images directory.
# Copies the firmware's config.txt and cmdline.txt next to the other images so
# the board's image layout can put them on the FAT partition.
set -eu

images=$1
# skiffbuild passes the layer directory; else it is the parent of hooks/.
layer=${SKIFFBUILD_LAYER_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}

for f in config.txt cmdline.txt; do
    cp "$layer/resources/rpi/$f" "$images/$f"
    chmod 644 "$images/$f"
done
