#!/usr/bin/env bash
# Installs what clipstream needs on a fresh Debian/Ubuntu machine, then the npm dependencies and
# the build. Idempotent: a second run only checks. Used by the README's quick start and by CI.
#
#   scripts/setup.sh            what clipstream itself needs: ffmpeg, npm ci, build
#   scripts/setup.sh --tests    the same, plus what only the tests need: Java + Maven and the
#                               Kafka jars for the test broker, chromium for the search page
#                               test, GStreamer's RTSP server for the live-stream tests
set -euo pipefail
tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    *)
      printf 'setup: unknown option %s (usage: scripts/setup.sh [--tests])\n' "$arg" >&2
      exit 2
      ;;
  esac
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
  log "installing $* (Debian packages)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Node.js: 20.10 or newer (20, 22 and 24 are tested lines).
command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20, 22 or 24"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=10)?0:1)' ||
  die "Node.js >= 20.10 is needed, found $(node --version)"

# ffmpeg + ffprobe: the distribution's build (security updates), never a bundled static one.
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  apt_install ffmpeg
fi

if [[ $tests == 1 ]]; then
  # The tests run a real Kafka broker fetched through Maven: Java 17+ and Maven.
  command -v javac >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  # The search page test drives Debian's chromium headless (puppeteer-core, no browser download).
  [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || apt_install chromium
  # The live-stream tests run GStreamer's RTSP server from Debian (test/helpers/rtsp_server.py,
  # with the Debian interpreter /usr/bin/python3).
  if ! /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1; then
    apt_install python3 python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
      gstreamer1.0-plugins-bad gstreamer1.0-rtsp
  fi
fi

log "npm ci"
npm ci --no-audit --no-fund --loglevel=error
log "building"
npm run --silent build

if [[ $tests == 1 ]]; then
  log "fetching Kafka for the integration tests (cached after the first time)"
  scripts/kafka.sh fetch
fi
log "ready"
