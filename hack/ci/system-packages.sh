#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing (CI machines start bare). Idempotent.
# Needs root or passwordless sudo; prints what it installed.
set -euo pipefail
want=()
command -v openssl >/dev/null || want+=(openssl)
command -v ss >/dev/null || want+=(iproute2)
# prometheus also ships promtool, which checks and unit-tests deploy/prometheus/kubeskippy-alerts.yaml.
{ command -v prometheus && command -v promtool; } >/dev/null || want+=(prometheus)
# The dashboard's end-to-end test drives Debian's Chromium with playwright-core (never a downloaded browser build).
[ -x /usr/bin/chromium ] || want+=(chromium)
# Chromium only recommends fonts; without one the screenshot shows boxes instead of text.
[ -d /usr/share/fonts/truetype/dejavu ] || want+=(fonts-dejavu-core)
[ ${#want[@]} -eq 0 ] && { echo "system packages: nothing to install"; exit 0; }
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
echo "system packages: installed ${want[*]}"
