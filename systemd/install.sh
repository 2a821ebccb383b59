#!/usr/bin/env bash
# Install myna-reader on Raspberry Pi OS (bookworm) or Debian 12, from this source tree:
#
#     sudo systemd/install.sh                 # install or upgrade, enable and start
#     sudo systemd/install.sh --uninstall     # remove; config and state stay
#     sudo systemd/install.sh --uninstall --purge   # also remove config and state
#
# This is the path for a source checkout; a clinic's reader installs the .deb instead
# (docs/install.md). What it does (each step is skipped when already done, so running it
# twice is safe):
#   1. apt-get installs pcscd, fonts, fontconfig and what pyscard needs to build (not with
#      --root/--no-apt)
#   2. the wheels (this tree's and every dependency's, current pip and wheel) are built or
#      fetched by an unprivileged build user (nobody), never by root: nothing of the new
#      release runs as root. Root then installs them offline into a virtual env,
#      /opt/myna-reader/releases/<version>, records it as a good release (update rollback
#      can return to it) and points `current` at it (switched atomically)
#   3. the voice prompts, synthesised by the build user with the new release (Piper from a
#      build-only venv it makes and removes), copied in
#   4. the myna-reader user (systemd-sysusers), its state directory (systemd-tmpfiles, which
#      refuses to follow links the service user may have planted there)
#   5. the unit, udev rules, tmpfiles and sysusers files under /etc; the config example as
#      /etc/myna-reader/config.toml.example, and config.toml from it when there is none
#      (root:myna-reader 0640: it may hold the link's pairing secret)
#   6. udev and systemd reloaded, the service enabled and (re)started, only when udevd and
#      systemd run on this machine and --root is not given
#
# Options:
#   --root DIR    install under DIR instead of / (an image, tests; also $DESTDIR): the tree
#                 runs once DIR is deployed at / (no DIR inside any script)
#   --wheel FILE  install this wheel instead of building the source tree
#   --no-deps     do not install Python dependencies (tests with a prebuilt wheel)
#   --build-user USER  the unprivileged user that builds the wheels (default nobody)
#   --no-apt      do not run apt-get
#   --no-start    install and enable, but do not (re)start the service
#   --update-key FILE  trust this vendor public key for signed updates (docs/updates.md);
#                 copied into /etc/myna-reader/update-keys/
#   --uninstall [--purge]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_tree=$(dirname "$here")
root=${DESTDIR:-}
wheel=""
update_keys=()
pip_deps=()
build_user=nobody
use_apt=1
start=1
action=install
purge=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift ;;
        --root=*) root=${1#--root=} ;;
        --wheel) wheel=$2; shift ;;
        --no-deps) pip_deps=(--no-deps) ;;
        --build-user) build_user=$2; shift ;;
        --no-apt) use_apt=0 ;;
        --no-start) start=0 ;;
        --update-key) update_keys+=("$2"); shift ;;
        --uninstall) action=uninstall ;;
        --purge) purge=1 ;;
        -h|--help) usage 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
root=${root%/}  # "" means the running system
if [ -n "$root" ]; then
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
fi

opt=$root/opt/myna-reader
etc=$root/etc
unit=$etc/systemd/system/myna-reader.service
kiosk_unit=$etc/systemd/system/myna-reader-cage.service
rules=$etc/udev/rules.d/60-myna-reader.rules
tmpfiles=$etc/tmpfiles.d/myna-reader.conf
sysusers=$etc/sysusers.d/myna-reader.conf
config_dir=$etc/myna-reader
state_dir=$root/var/lib/myna-reader

say() { echo "install.sh: $*"; }

# systemctl and udevadm only act on the running machine, and only when their daemons run
systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
udev_running() { [ -z "$root" ] && command -v udevadm >/dev/null && udevadm control --ping 2>/dev/null; }

if [ "$(id -u)" -ne 0 ]; then  # --root too: the files belong to root and the service user
    echo "install.sh: needs root to install (the service user, file ownership): sudo $0 $*" >&2
    exit 1
fi

uninstall() {
    if systemd_running; then
        systemctl disable --now myna-reader.service myna-reader-cage.service 2>/dev/null || true
    fi
    rm -f "$unit" "$kiosk_unit" "$rules" "$tmpfiles" "$sysusers"
    rm -rf "$opt"
    if [ "$purge" -eq 1 ]; then
        rm -rf "$config_dir" "$state_dir"
        say "removed the configuration and the state (passcode hash, outbox, audit log)"
    else
        say "kept $config_dir and $state_dir (--purge removes them)"
    fi
    if systemd_running; then systemctl daemon-reload; fi
    if udev_running; then udevadm control --reload; fi
    say "uninstalled; the user myna-reader remains (userdel myna-reader removes it)"
}

apt_packages() {
    [ "$use_apt" -eq 1 ] && [ -z "$root" ] && command -v apt-get >/dev/null || return 0
    local wanted=(pcscd libccid python3-venv fonts-morisawa-bizud-gothic fonts-ipaexfont-gothic
                  fontconfig libpcsclite-dev swig gcc python3-dev open-jtalk
                  open-jtalk-mecab-naist-jdic)
    local missing=() p
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "apt-get install ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"
    fi
}

release_version() {
    if [ -n "$wheel" ]; then
        basename "$wheel" | cut -d- -f2  # name-version-tags.whl
    else
        python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
            "$source_tree/pyproject.toml"
    fi
}

# what the release was built from: a second run with the same input changes nothing
release_stamp() {
    if [ -n "$wheel" ]; then
        sha256sum "$wheel" | cut -d' ' -f1
    else
        (cd "$source_tree" && find pyproject.toml daemon drivers ui hw-fixtures -type f \
            -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum \
            | cut -d' ' -f1)
    fi
}

# as_builder DIR COMMAND...: run COMMAND as the build user in DIR, with a clean environment
# (pip's settings of this machine kept); root made DIR and hands it over for this call only
as_builder() {
    local work=$1
    shift
    chown -R "$build_user:" "$work"
    local keep=() name
    for name in $(compgen -e); do
        case "$name" in PIP_*|SSL_CERT_FILE|REQUESTS_CA_BUNDLE|http_proxy|https_proxy|no_proxy)
            keep+=("$name=${!name}") ;;
        esac
    done
    (cd "$work" && setpriv --reuid="$build_user" --regid="$(id -g "$build_user")" --clear-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8 "${keep[@]}" "$@")
    chown -R root:root "$work"  # from here on the build user can change nothing in it
}

# the wheels for VERSION into $build/work/wheels, made by the build user
build_wheels() {
    local work=$build/work
    mkdir -p "$work/wheels"
    if [ -n "$wheel" ]; then
        cp "$wheel" "$work/wheels/"
    else
        mkdir "$work/src"
        (cd "$source_tree" && cp -r --parents pyproject.toml README.md daemon drivers ui \
            hw-fixtures "$work/src/")
        find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
    fi
    local what=./src
    [ -z "$wheel" ] || what=wheels/$(basename "$wheel")
    as_builder "$work" sh -ec "python3 -m venv venv
        venv/bin/pip install -q --no-cache-dir --upgrade pip wheel
        venv/bin/pip download -q --no-cache-dir -d wheels pip wheel
        venv/bin/pip wheel -q --no-cache-dir -w wheels ${pip_deps[*]} $what"
}

install_release() {
    local version stamp release
    version=$(release_version)
    stamp=$(release_stamp)
    release=$opt/releases/$version
    if [ -x "$release/bin/myna-reader" ] && [ "$(cat "$release/.myna-release" 2>/dev/null)" = "$stamp" ]; then
        say "release $version already installed"
    else
        say "installing release $version into $release"
        build=$(mktemp -d /var/tmp/myna-reader-build.XXXXXX)
        chmod 0711 "$build"  # the build user may enter its work folder, not list this one
        trap 'rm -rf "$build"' EXIT
        build_wheels
        rm -rf "$release"
        mkdir -p "$opt/releases"
        python3 -m venv "$release"
        # offline, wheels only: root unpacks files and runs none of the release's code
        local pip=("$release/bin/python" -I -m pip install -q --no-index --no-cache-dir
                   --disable-pip-version-check --only-binary=:all: --find-links "$build/work/wheels")
        "${pip[@]}" --upgrade pip wheel
        "${pip[@]}" --no-compile "${pip_deps[@]}" "myna-reader==$version"
        [ -z "$root" ] || relocate "$release"
        # byte-code by the system's python3 (the venv's own, same version): no release code runs
        python3 -m compileall -q -f ${root:+-s "$root" -p /} "$release/lib" >/dev/null
        echo "$stamp" > "$release/.myna-release"
    fi
    # a good release for the updater: the first `update install` keeps it for rollback
    "$here/record-release-good" "$opt/update-state.json" "$version"
    if [ "$(readlink "$opt/current" 2>/dev/null)" != "releases/$version" ]; then
        ln -sfn "releases/$version" "$opt/current.new"
        mv -Tf "$opt/current.new" "$opt/current"
        say "current -> releases/$version"
    fi
}

# a venv built under --root DIR names DIR in its scripts: make them name the deployed path
relocate() {
    local release=$1 deployed=${1#"$root"} file
    grep -rlF -- "$root$deployed" "$release/bin" "$release/pyvenv.cfg" 2>/dev/null \
        | while read -r file; do
            sed -i "s#$root$deployed#$deployed#g" "$file"
        done
}

# the voice prompts (one folder per language) are synthesised once per release, offline
# (ui/make_voice.py), by the build user with the new release; root copies the plain files in
build_voice() {
    local release=$opt/current target voice lang
    target=$(find "$release/lib" -path '*/myna_reader/ui/assets/voice' -type d | head -n 1)
    if ! command -v open_jtalk >/dev/null && ! command -v espeak-ng >/dev/null; then
        say "no open_jtalk: voice prompts not built (myna-reader doctor shows how)"
        return 0
    fi
    [ -n "$target" ] && [ ! -s "$target/ja/manifest.json" ] || return 0
    voice=$(mktemp -d /var/tmp/myna-reader-voice.XXXXXX)
    chmod 0711 "$voice"
    mkdir "$voice/work"
    # Piper (the voice-build extra) goes into a build-only venv there, the release holds none;
    # --no-deps installs no Python dependency, Piper included
    local piper=(--piper-venv "$voice/work/piper")
    [ ${#pip_deps[@]} -eq 0 ] || piper=()
    if as_builder "$voice/work" "$release/bin/python" -I -m myna_reader.ui.make_voice \
            "${piper[@]}" --out "$voice/work/prompts" >/dev/null; then
        for lang in "$voice"/work/prompts/*/; do
            lang=$(basename "$lang")
            install -d -m 0755 "$target/$lang"
            find "$voice/work/prompts/$lang" -maxdepth 1 -type f \
                \( -name '*.wav' -o -name manifest.json \) -exec install -m 0644 -t "$target/$lang" {} +
        done
    else
        say "voice prompts could not be built (myna-reader doctor shows how)"
    fi
    rm -rf "$voice"
}

install_file() {  # install_file SRC DEST MODE: copy only when the content differs
    if ! cmp -s "$1" "$2"; then
        install -D -m "$3" "$1" "$2"
        say "wrote ${2#"$root"}"
    fi
}

install_system_files() {
    install_file "$here/myna-reader.service" "$unit" 0644
    install_file "$here/myna-reader-cage.service" "$kiosk_unit" 0644  # not enabled
    install_file "$here/60-myna-reader.rules" "$rules" 0644
    install_file "$here/myna-reader.tmpfiles" "$tmpfiles" 0644
    install_file "$here/myna-reader.sysusers" "$sysusers" 0644
    install_file "$here/config.toml.example" "$config_dir/config.toml.example" 0644
    install -d -m 0755 "$config_dir/update-keys"
    local key
    for key in "${update_keys[@]}"; do
        install_file "$key" "$config_dir/update-keys/$(basename "$key")" 0644
    done
}

# config.toml from the example when there is none: root:myna-reader 0640, since it may hold
# the link's pairing secret (the group exists once create_user_and_dirs ran)
install_config() {
    [ ! -e "$config_dir/config.toml" ] || return 0
    local gid
    gid=$(awk -F: '$1 == "myna-reader" {print $3}' "$etc/group")
    install -m 0640 -o 0 -g "${gid:-0}" "$here/config.toml.example" "$config_dir/config.toml"
    say "wrote ${config_dir#"$root"}/config.toml (every key at its default)"
}

create_user_and_dirs() {
    local root_args=()
    [ -n "$root" ] && root_args=(--root="$root")
    if command -v systemd-sysusers >/dev/null; then
        systemd-sysusers "${root_args[@]}" "$sysusers"
    elif [ -z "$root" ] && ! id myna-reader >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/myna-reader --shell /usr/sbin/nologin \
            --groups video,input,render,audio,dialout,plugdev myna-reader
    fi
    if command -v systemd-tmpfiles >/dev/null; then
        systemd-tmpfiles "${root_args[@]}" --create "$tmpfiles"
    fi
}

reload_and_start() {
    if udev_running; then
        udevadm control --reload
        udevadm trigger --action=add --subsystem-match=usb --subsystem-match=tty
    fi
    if systemd_running; then
        systemctl daemon-reload
        systemctl enable myna-reader.service
        if [ "$start" -eq 1 ]; then
            systemctl restart myna-reader.service
            say "myna-reader started; check it with: myna-reader doctor"
        fi
    else
        say "systemd is not running here${root:+ (installed under $root)}: not started"
    fi
}

if [ "$action" = uninstall ]; then
    uninstall
    exit 0
fi
apt_packages
install_release
build_voice
install_system_files
create_user_and_dirs
install_config
reload_and_start
say "done"
