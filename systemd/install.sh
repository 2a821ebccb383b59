#!/usr/bin/env bash
# Install myna-reader on Raspberry Pi OS (bookworm) or Debian 12, from this source tree:
#
#     sudo systemd/install.sh                 # install or upgrade, enable and start
#     sudo systemd/install.sh --uninstall     # remove; config and state stay
#     sudo systemd/install.sh --uninstall --purge   # also remove config and state
#
# What it does (each step is skipped when already done, so running it twice is safe):
#   1. apt-get installs pcscd, fonts and what pyscard needs to build (not with --root/--no-apt)
#   2. a virtual env with the release: /opt/myna-reader/releases/<version>, and the
#      `current` link pointing at it (switched atomically)
#   3. the unit, udev rules, tmpfiles and sysusers files under /etc; the config example as
#      /etc/myna-reader/config.toml.example, and config.toml from it when there is none
#   4. the myna-reader user (systemd-sysusers), its state directory (systemd-tmpfiles)
#   5. udev and systemd reloaded, the service enabled and (re)started, only when udevd and
#      systemd run on this machine and --root is not given
#
# Options:
#   --root DIR    install under DIR instead of / (packaging and tests; also $DESTDIR)
#   --wheel FILE  install this wheel instead of building the source tree
#   --no-deps     do not install Python dependencies (tests with a prebuilt wheel)
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
rules=$etc/udev/rules.d/60-myna-reader.rules
tmpfiles=$etc/tmpfiles.d/myna-reader.conf
sysusers=$etc/sysusers.d/myna-reader.conf
config_dir=$etc/myna-reader
state_dir=$root/var/lib/myna-reader

say() { echo "install.sh: $*"; }

# systemctl and udevadm only act on the running machine, and only when their daemons run
systemd_running() { [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
udev_running() { [ -z "$root" ] && command -v udevadm >/dev/null && udevadm control --ping 2>/dev/null; }

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (sudo $0 $*), or give --root DIR" >&2
    exit 1
fi

uninstall() {
    if systemd_running; then
        systemctl disable --now myna-reader.service 2>/dev/null || true
    fi
    rm -f "$unit" "$rules" "$tmpfiles" "$sysusers"
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
                  libpcsclite-dev swig gcc python3-dev open-jtalk open-jtalk-mecab-naist-jdic)
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

install_release() {
    local version stamp release
    version=$(release_version)
    stamp=$(release_stamp)
    release=$opt/releases/$version
    if [ -x "$release/bin/myna-reader" ] && [ "$(cat "$release/.myna-release" 2>/dev/null)" = "$stamp" ]; then
        say "release $version already installed"
    else
        say "installing release $version into $release"
        rm -rf "$release"
        mkdir -p "$opt/releases"
        python3 -m venv "$release"
        "$release/bin/python" -m pip install -q --disable-pip-version-check "${pip_deps[@]}" \
            "${wheel:-$source_tree}"
        echo "$stamp" > "$release/.myna-release"
    fi
    if [ "$(readlink "$opt/current" 2>/dev/null)" != "releases/$version" ]; then
        ln -sfn "releases/$version" "$opt/current.new"
        mv -Tf "$opt/current.new" "$opt/current"
        say "current -> releases/$version"
    fi
}

# the voice prompts are synthesised once per release, offline (ui/make_voice.py)
build_voice() {
    local release=$opt/current
    if ! command -v open_jtalk >/dev/null && ! command -v espeak-ng >/dev/null; then
        say "no open_jtalk: voice prompts not built (myna-reader doctor shows how)"
    elif ! "$release/bin/python" -m myna_reader.ui.make_voice >/dev/null; then
        say "voice prompts could not be built (myna-reader doctor shows how)"
    fi
}

install_file() {  # install_file SRC DEST MODE: copy only when the content differs
    if ! cmp -s "$1" "$2"; then
        install -D -m "$3" "$1" "$2"
        say "wrote ${2#"$root"}"
    fi
}

install_system_files() {
    install_file "$here/myna-reader.service" "$unit" 0644
    install_file "$here/60-myna-reader.rules" "$rules" 0644
    install_file "$here/myna-reader.tmpfiles" "$tmpfiles" 0644
    install_file "$here/myna-reader.sysusers" "$sysusers" 0644
    install_file "$here/config.toml.example" "$config_dir/config.toml.example" 0644
    install -d -m 0755 "$config_dir/update-keys"
    local key
    for key in "${update_keys[@]}"; do
        install_file "$key" "$config_dir/update-keys/$(basename "$key")" 0644
    done
    if [ ! -e "$config_dir/config.toml" ]; then
        install -m 0644 "$here/config.toml.example" "$config_dir/config.toml"
        say "wrote ${config_dir#"$root"}/config.toml (every key at its default)"
    fi
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
reload_and_start
say "done"
