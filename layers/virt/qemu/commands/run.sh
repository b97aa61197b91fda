#!/bin/sh
# Boot a disk image in QEMU with software emulation (works without KVM).
#
#   run.sh [IMAGE] [-- QEMU-ARGS...]
#
# IMAGE defaults to $SKIFFBUILD_IMAGE. The serial console is on stdio; quit
# with Ctrl-A X. Writes go to IMAGE (the persist partition keeps them):
# `skiffbuild run` passes a throw-away copy unless --persist; "-- -snapshot"
# discards them even then.
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
    -m 1024 \
    -smp 2 \
    -nographic \
    -drive "file=$image,format=raw,if=virtio" \
    -netdev user,id=net0 \
    -device virtio-net-pci,netdev=net0 \
    -device virtio-rng-pci \
    "$@"
