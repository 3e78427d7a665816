#!/usr/bin/env bash
# Makes the Dockerfile's two base images on this machine, for a Docker engine that cannot pull from a registry:
#   <prefix>/aspnet:10.0   Debian 12 (debootstrap) with this machine's ASP.NET Core runtime and the user app (uid 1654)
#   <prefix>/sdk:10.0      the same Debian with this machine's whole .NET SDK
# Both carry this machine's CA certificates, so a package fetch inside them (the build stage's NuGet restore) trusts
# what the host trusts. Then build the product image with them (RUN steps need the host's network):
#   docker build --network host --build-arg SDK_IMAGE=<prefix>/sdk:10.0 --build-arg RUNTIME_IMAGE=<prefix>/aspnet:10.0 -t churn .
# The images are labelled with a hash of their inputs (this script, the .NET install, the CA certificates, the Debian
# mirror) and made again only when that hash changes. Needs root, debootstrap and a docker client (DOCKER_HOST is
# honoured). Usage: deploy/local-base.sh [PREFIX]   (default churn-local)
set -euo pipefail

prefix="${1:-churn-local}"
mirror="${CHURN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm
# libicu72: globalization; libgomp1: LightGBM's OpenMP; curl: the image's health probe.
packages=ca-certificates,libicu72,libgomp1,curl
app_uid=1654
dotnet_root="${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}"
runtime_image="$prefix/aspnet:10.0"
sdk_image="$prefix/sdk:10.0"

fail() { echo "local-base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "debootstrap and chroot need root."
command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)."
command -v docker >/dev/null || fail "no docker client (apt-get install docker.io)."
[ -x "$dotnet_root/dotnet" ] || fail "no .NET install at $dotnet_root (set DOTNET_ROOT)."
runtime_version=$(find "$dotnet_root/shared/Microsoft.AspNetCore.App" -mindepth 1 -maxdepth 1 -name '10.*' -printf '%f\n' | sort -V | tail -1)
[ -n "$runtime_version" ] && [ -d "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" ] \
  || fail "no ASP.NET Core 10 runtime under $dotnet_root/shared."

inputs=$({
  cat "${BASH_SOURCE[0]}"
  echo "$mirror $suite $packages $runtime_version ${NUGET_CERT_REVOCATION_MODE:-}"
  ls "$dotnet_root/sdk" "$dotnet_root/shared"/*
  cat /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/*.crt 2>/dev/null || true
} | sha256sum | cut -c1-16)

label() { docker image inspect --format '{{ index .Config.Labels "churn.base.inputs" }}' "$1" 2>/dev/null || true; }
if [ "$(label "$runtime_image")" = "$inputs" ] && [ "$(label "$sdk_image")" = "$inputs" ]; then
  echo "local-base: $runtime_image and $sdk_image are up to date ($inputs)."
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/churn-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "local-base: debootstrap $suite from $mirror"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap failed."; }

# The host's own certificates: added ones survive a later update-ca-certificates, and the bundle is the host's exactly.
cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
# The official .NET images' non-root user, which the Dockerfile's USER and chown name.
chroot "$rootfs" groupadd --gid "$app_uid" app
chroot "$rootfs" useradd --no-log-init --uid "$app_uid" --gid "$app_uid" --create-home app
# As in the official Debian images: apt keeps no package caches, so an image's apt-get layer holds only what it installs.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*

# One image per stage: a hard-linked copy of the Debian tree plus the .NET files it needs, imported as one layer.
make_image() {
  local name=$1 staging="$work/$2"; shift 2
  cp -al "$rootfs" "$staging"
  mkdir -p "$staging/usr/share/dotnet"
  "$@" "$staging/usr/share/dotnet"
  ln -s /usr/share/dotnet/dotnet "$staging/usr/bin/dotnet"
  echo "local-base: importing $name"
  tar --numeric-owner -C "$staging" -c . | docker import \
    --change "LABEL churn.base.inputs=$inputs" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV APP_UID=$app_uid DOTNET_RUNNING_IN_CONTAINER=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1" \
    --change "ENV NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}" \
    - "$name" >/dev/null
}
runtime_files() {
  cp -a "$dotnet_root/dotnet" "$dotnet_root/LICENSE.txt" "$dotnet_root/host" "$1/"
  mkdir -p "$1/shared/Microsoft.NETCore.App" "$1/shared/Microsoft.AspNetCore.App"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" "$1/shared/Microsoft.NETCore.App/"
  cp -a "$dotnet_root/shared/Microsoft.AspNetCore.App/$runtime_version" "$1/shared/Microsoft.AspNetCore.App/"
}
sdk_files() { cp -a "$dotnet_root/." "$1/"; }
make_image "$runtime_image" aspnet runtime_files
make_image "$sdk_image" sdk sdk_files
echo "local-base: made $runtime_image and $sdk_image ($inputs)."
