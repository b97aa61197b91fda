#!/bin/sh
# Write a disk image to a block device (SD card) or to a file.
#
#   install.sh [--yes] IMAGE TARGET
#
# IMAGE defaults to $SKIFFBUILD_IMAGE when only TARGET is given. Refuses a
# device that is mounted, and asks before overwriting unless --yes is given.
set -eu

usage() {
    echo "usage: $0 [--yes] [IMAGE] TARGET" >&2
    exit 2
}

yes=
case "${1:-}" in
--yes|-y) yes=1; shift ;;
esac
case $# in
1) image=${SKIFFBUILD_IMAGE:-}; target=$1 ;;
2) image=$1; target=$2 ;;
*) usage ;;
esac
[ -n "$image" ] || usage
[ -f "$image" ] || { echo "install: no such image: $image" >&2; exit 1; }

if [ -b "$target" ]; then
    real=$(readlink -f "$target")
    # Neither the device nor any of its partitions may be mounted or used as swap.
    # lsblk resolves /dev/root, by-uuid links and the like; /proc/mounts is the fallback.
    if command -v lsblk >/dev/null 2>&1; then
        used=$(lsblk -nro MOUNTPOINTS "$real" 2>/dev/null | tr -d '[:space:]')
    else
        used=$(grep "^$real[^ ]* " /proc/mounts /proc/swaps || true)
    fi
    if [ -n "$used" ]; then
        echo "install: $target is mounted or in use; unmount it first" >&2
        exit 1
    fi
    what="block device $target"
elif [ -e "$target" ] && [ ! -f "$target" ]; then
    echo "install: $target is neither a block device nor a regular file" >&2
    exit 1
else
    what="file $target"
fi

if [ -z "$yes" ]; then
    printf 'Overwrite %s with %s? [y/N] ' "$what" "$image"
    read -r answer || answer=
    case $answer in
    y|Y|yes|YES) ;;
    *) echo "install: aborted" >&2; exit 1 ;;
    esac
fi

if [ -b "$target" ]; then
    dd if="$image" of="$target" bs=4M conv=fsync status=progress
else
    cp "$image" "$target"
fi
sync
echo "install: wrote $image to $what"
