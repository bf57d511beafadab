#!/usr/bin/env bash
# Installs onestack's dependencies from Debian 12's packages.
#   install-deps.sh build   compilers and libraries
#   install-deps.sh test    + the OpenStack clients, Tempest and test tools
#   install-deps.sh fuzz    + clang 14, its libFuzzer and sanitizer runtimes
#                             (libclang-rt-14-dev) and llvm-symbolizer
# Idempotent; quiet unless something fails. Needs root.
set -euo pipefail

want=${1:-build}
build_pkgs=(
  cmake ninja-build g++ ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libcrypt-dev libsqlite3-dev libmsgpuck-dev libarchive-dev libjemalloc-dev
  libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev
  libpq-dev libglusterfs-dev
  curl openssl ca-certificates
)
test_pkgs=(
  python3 python3-pytest python3-requests python3-yaml
  python3-openstackclient python3-openstacksdk python3-keystoneclient
  python3-keystone tempest python3-subunit python3-stestr
  python3-swiftclient rclone
  postgresql glusterfs-server haproxy iproute2
  swift swift-proxy swift-account swift-container swift-object swift-object-expirer
  python3-keystonemiddleware memcached rsyslog
  clang-format
)
fuzz_pkgs=(
  clang clang-14 libclang-rt-14-dev llvm-14
)

pkgs=("${build_pkgs[@]}")
[ "$want" = test ] && pkgs+=("${test_pkgs[@]}")
[ "$want" = fuzz ] && pkgs+=("${fuzz_pkgs[@]}")

# PostgreSQL (and anything else that drops root) must be able to reach its
# binaries, libraries and data: Debian's system directories are searchable
# by every user. Some sandboxed hosts hand them over without the x bits
# (drw-r--r--), where no process of another user can even start; put back
# Debian's modes on those directories, and only where the bits are missing.
repair_dir_modes() {
  local d mode
  for d in / /usr /usr/bin /usr/sbin /usr/lib /usr/lib32 /usr/lib64 /usr/libexec \
           /usr/share /usr/local /etc /var /var/lib /var/tmp /run /tmp /dev /home /opt \
           /srv /mnt /media /boot; do
    [ -d "$d" ] && [ ! -L "$d" ] || continue
    if [ -z "$(find "$d" -maxdepth 0 -perm -o=x)" ]; then
      mode=755
      case "$d" in /tmp|/var/tmp) mode=1777 ;; esac
      if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: $d is not searchable by other users (needs root to fix)" >&2
        return 1
      fi
      echo "install-deps: $d was $(stat -c %a "$d"), not searchable by other users; setting $mode"
      chmod "$mode" "$d"
    fi
  done
}
[ "$want" = test ] && repair_dir_modes

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's OpenStack packages try to start their services on install; nothing
# of theirs may run here, so refuse service starts while installing.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "install-deps: installing ${missing[*]}"
for attempt in 1 2 3; do
  if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/onestack-apt.log 2>&1; then
    exit 0
  fi
  echo "install-deps: apt-get failed (attempt $attempt); retrying" >&2
  sleep 10
done
tail -30 /tmp/onestack-apt.log >&2
exit 1
