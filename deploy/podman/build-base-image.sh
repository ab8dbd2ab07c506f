#!/usr/bin/env bash
# Builds a stand-in for the python:3.11-slim image from Debian bookworm with debootstrap, for a machine that
# has no image registry, and stores it in podman's own image storage. A second call on the same machine reuses
# the stored image; the image is made again only when this script changes.
#
#   deploy/podman/build-base-image.sh [TAG]     (default localhost/python:3.11-slim)
#
# The default tag is what `FROM python:3.11-slim` finds in podman's storage when no registry is reachable; an
# explicit `localhost/` never mistakes an image pulled from Docker Hub for this one.
#
# Like python:3.11-slim it has Python 3.11 with `python` and `pip` on PATH. Debian marks its Python
# externally managed (PEP 668); the marker is removed, because in an image the system Python is the one pip
# installs into. DEBIAN_MIRROR picks the mirror (default http://deb.debian.org/debian). Run as root.
set -euo pipefail
tag="${1:-localhost/python:3.11-slim}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
recipe="$(sha256sum "$0" | cut -d' ' -f1)"
label="org.collabgap.base-recipe"

if [ "$(podman image inspect --format "{{index .Labels \"$label\"}}" "$tag" 2>/dev/null)" = "$recipe" ]; then
  echo "base image $tag: already built from this recipe"
  exit 0
fi
for program in debootstrap podman; do
  command -v "$program" >/dev/null || { echo "$program is missing (apt-get install $program)" >&2; exit 1; }
done

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-pip,python-is-python3,ca-certificates \
  bookworm "$root" "$mirror"
rm -f "$root"/usr/lib/python3.11/EXTERNALLY-MANAGED
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/log/* "$root"/tmp/*
[ -x "$root/usr/bin/python" ] && [ -x "$root/usr/bin/pip" ] || { echo "the base has no python or pip" >&2; exit 1; }

tar --numeric-owner -C "$root" -c . | podman import \
  --change "ENV LANG=C.UTF-8" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "LABEL $label=$recipe" \
  --change 'CMD ["python3"]' \
  - "$tag"
echo "base image $tag: built"
