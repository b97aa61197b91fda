#!/bin/sh
# Boot a virt/lean disk image in QEMU with software emulation (works without KVM).
#
#   run.sh [IMAGE] [-- QEMU-ARGS...]
#
# IMAGE defaults to $SKIFFBUILD_IMAGE. The serial console is on stdio; quit
# with Ctrl-A X. Memory: 96 MiB, what the Buildroot test tree's Debian kernel
# needs with some room (it does not start in 64); a later "-- -m 64" wins.
# The root is read-only squashfs: the system writes nothing to IMAGE.
set -eu

image=${SKIFFBUILD_IMAGE:-}
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    image=$1
    shift
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
    shift
fi
if [ -z "$image" ] || [ ! -f "$image" ]; then
    echo "usage: $0 [IMAGE] [-- QEMU-ARGS...]  (no image: '${image}')" >&2
    exit 2
fi

exec qemu-system-x86_64 \
    -accel tcg \
    -m 96 \
    -smp 1 \
    -nographic \
    -nic none \
    -drive "file=$image,format=raw,if=virtio" \
    "$@"
