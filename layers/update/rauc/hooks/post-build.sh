#!/bin/sh
# update/rauc post-build hook: $1 is Buildroot's target directory.
#
# Copies the BUILD HOST's own rauc, dbus-daemon and grub-editenv (Debian's packages) into
# /usr/lib/rauc-host/ of the target, with every shared library `ldd` lists for them and
# the dynamic loader, and puts wrappers (/usr/bin/rauc, /usr/bin/grub-editenv,
# /usr/libexec/rauc-host/dbus-daemon) that start them through that loader
# (so they never use, or clobber, the target's own libc). The package versions they came
# from are recorded in /usr/lib/rauc-host/SOURCES: the target is reproducible only on a
# build host with the same versions. Buildroot's rootfs step (BR2_REPRODUCIBLE) sets
# every mtime to SOURCE_DATE_EPOCH afterwards.
#
# Installs RAUC's configuration that config:<ws> generated from the board
# (SKIFFBUILD_CONFIG_DIR: rauc-system.conf, rauc-keyring.pem, rauc-boot.env; see
# skiffbuild/buildroot/rauc.py) into /etc/rauc/.
set -eu

target=$1
cfg=${SKIFFBUILD_CONFIG_DIR:-}
tools="rauc dbus-daemon grub-editenv"

die() { echo "update/rauc: $*" >&2; exit 1; }

for f in rauc-system.conf rauc-keyring.pem rauc-boot.env; do
    [ -f "$cfg/$f" ] || die "no $f in the workspace's config directory" \
        "(${cfg:-SKIFFBUILD_CONFIG_DIR unset}): the board needs update.device and" \
        "an A/B layout booted by GRUB"
done

prefix=/usr/lib/rauc-host
rm -rf "$target$prefix"
mkdir -p "$target$prefix/bin" "$target$prefix/lib" "$target/usr/bin" "$target/etc/rauc" \
    "$target/boot"

libs=$(mktemp)
loader=
for tool in $tools; do
    path=$(command -v "$tool") || die "the build host has no $tool (Debian: apt-get install" \
        "rauc dbus-daemon grub-common)"
    cp -L "$path" "$target$prefix/bin/$tool"
    chmod 755 "$target$prefix/bin/$tool"
    echo "$path" >> "$libs"
    # Without LD_PRELOAD: a preload (faketime in repro's second build) is no dependency.
    env -u LD_PRELOAD ldd "$path" > "$libs.ldd" || die "ldd $path failed"
    ! grep -q "not found" "$libs.ldd" || die "$tool: $(grep "not found" "$libs.ldd")"
    # "libx.so.1 => /lib/.../libx.so.1 (0x...)"; the loader: "/lib64/ld-linux-x86-64.so.2 (0x...)"
    awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 } $1 ~ /^\// { print $1, $1 }' \
        "$libs.ldd" | while read -r name file; do
        name=${name##*/}
        cp -L "$file" "$target$prefix/lib/$name"
        chmod 644 "$target$prefix/lib/$name"
        echo "$file" >> "$libs"
    done
    found=$(awk '$1 ~ /^\// { print $1 }' "$libs.ldd")
    loader=${loader:-${found##*/}}
done
[ -n "$loader" ] || die "no dynamic loader in ldd's output"
chmod 755 "$target$prefix/lib/$loader"

# Where each file came from (dpkg -S), and those packages' versions.
{
    echo "# The build host's files in $prefix (update/rauc layer), from these Debian packages:"
    sort -u "$libs" | while read -r file; do
        dpkg -S "$(readlink -f "$file")" 2>/dev/null || dpkg -S "$file" 2>/dev/null || true
    done | sed 's/:.*//; s/,.*//' | sort -u | while read -r pkg; do
        dpkg-query -W -f '${Package} ${Version}\n' "$pkg" 2>/dev/null || true
    done
} > "$target$prefix/SOURCES"
rm -f "$libs" "$libs.ldd"

# rauc and grub-editenv (RAUC runs it) in /usr/bin; dbus-daemon beside the boot scripts, so
# that a Buildroot dbus package (systemd selects it) keeps its own.
mkdir -p "$target/usr/libexec/rauc-host"
for tool in $tools; do
    wrapper=$target/usr/bin/$tool
    [ "$tool" != dbus-daemon ] || wrapper=$target/usr/libexec/rauc-host/$tool
    cat > "$wrapper" <<WRAPPER
#!/bin/sh
# The build host's $tool with its own libraries (update/rauc layer; see $prefix/SOURCES).
export DBUS_SYSTEM_BUS_ADDRESS="\${DBUS_SYSTEM_BUS_ADDRESS:-unix:path=/run/dbus/system_bus_socket}"
exec $prefix/lib/$loader --library-path $prefix/lib $prefix/bin/$tool "\$@"
WRAPPER
    chmod 755 "$wrapper"
done

# RAUC's D-Bus policy (Debian's rauc-service), for whichever bus runs.
policy=/usr/share/dbus-1/system.d/de.pengutronix.rauc.conf
if [ -f "$policy" ]; then
    mkdir -p "$target/usr/share/dbus-1/system.d"
    install -m 0644 "$policy" "$target$policy"
fi

install -m 0644 "$cfg/rauc-system.conf" "$target/etc/rauc/system.conf"
install -m 0644 "$cfg/rauc-keyring.pem" "$target/etc/rauc/keyring.pem"
install -m 0644 "$cfg/rauc-boot.env" "$target/etc/rauc/boot.env"
