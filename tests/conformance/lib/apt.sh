# shellcheck shell=bash
# Sourced by the conformance scripts.
#
# ensure_debian_packages LOGFILE PKG...
#   Installs the Debian packages among PKG... that are not installed yet,
#   quietly, waiting for apt's lock if another install holds it. Services the
#   packages would start are blocked for the install by a policy-rc.d that
#   exits 101; it is removed afterwards only if this function created it.
#   Returns non-zero (after printing the end of LOGFILE) if the install fails.
ensure_debian_packages() {
  local log=$1
  shift
  local missing=() pkg
  for pkg in "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "missing packages (${missing[*]}) and not root to install them" >&2
    return 1
  fi

  echo "installing ${missing[*]}" >&2
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0 attempt
  for attempt in 1 2 3; do
    rc=0
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
      install -y -q --no-install-recommends "${missing[@]}" >> "$log" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] && break
    # A stale package list is the usual reason for a failed install.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q \
      >> "$log" 2>&1 || true
    sleep $((attempt * 5))
  done
  [[ $made_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  if [[ $rc -ne 0 ]]; then
    tail -20 "$log" >&2
    echo "apt-get install ${missing[*]} failed" >&2
    return 1
  fi
  return 0
}
