#!/bin/sh
# virt/lean post-image hook: $1 is Buildroot's images directory.
#
# Copies syslinux.cfg next to bzImage, and makes initramfs.cpio.gz: the small
# initramfs that mounts the squashfs root (resources/initramfs-init as /init,
# BusyBox with the musl loader when it is linked dynamically, and the kernel
# modules on the way to the root with their dependencies, in load order, as
# modules.dep of the target directory lists them). A module built into the
# kernel is not in modules.dep and is left out; with no module at all the
# initramfs only mounts the root. Deterministic: sorted entries, owner 0:0,
# times from SOURCE_DATE_EPOCH, gzip without a name or time.
set -eu

images=$1
# skiffbuild passes the layer directory; else it is the parent of hooks/.
layer=${SKIFFBUILD_LAYER_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}
target=${TARGET_DIR:?TARGET_DIR is not set (Buildroot sets it for post-image scripts)}
# Modules between the kernel and the root filesystem: the virtio PCI transport,
# the virtio disk, squashfs.
modules="virtio_pci virtio_blk squashfs"
applets="sh cat mkdir mount umount insmod usleep setsid cttyhack switch_root"

cp "$layer/resources/syslinux.cfg" "$images/syslinux.cfg"
chmod 644 "$images/syslinux.cfg"

stage=$(mktemp -d)
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/dev" "$stage/proc" "$stage/newroot"
install -m 0755 "$layer/resources/initramfs-init" "$stage/init"
cp -L "$target/bin/busybox" "$stage/bin/busybox"
for loader in "$target"/lib/ld-musl-*.so.1; do
    [ -e "$loader" ] || continue
    cp -L "$loader" "$stage/lib/${loader##*/}"
done
for applet in $applets; do
    ln -s busybox "$stage/bin/$applet"
done

: > "$stage/lib/modules/modules.load"
for dir in "$target"/lib/modules/*/; do
    [ -f "$dir/modules.dep" ] || continue
    # Each wanted module after its dependencies, each once (module names compare
    # with '-' as '_', as the kernel's do).
    awk -v want="$modules" '
        function name(path) { sub(/.*\//, "", path); sub(/\.ko.*$/, "", path); gsub(/-/, "_", path); return path }
        function visit(mod,   n, i, parts) {
            if (mod in done || !(mod in line)) return
            done[mod] = 1
            n = split(line[mod], parts, " ")
            for (i = 2; i <= n; i++) visit(name(parts[i]))
            print file[mod]
        }
        { sub(/:/, ""); line[name($1)] = $0; file[name($1)] = $1 }
        END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(w[i]) }
    ' "$dir/modules.dep" | while read -r path; do
        cp "$dir/$path" "$stage/lib/modules/"
        echo "${path##*/}" >> "$stage/lib/modules/modules.load"
    done
done

if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
(cd "$stage" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) \
    | gzip -9 -n > "$images/initramfs.cpio.gz"
chmod 644 "$images/initramfs.cpio.gz"
