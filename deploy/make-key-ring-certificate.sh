#!/usr/bin/env bash
# Makes deploy/secrets/key_ring.pfx, the certificate that encrypts the dashboard's data-protection key ring, protected
# with CHURN_KEY_RING_PASSWORD from deploy/.env. The file is readable only by the image's user "app" (uid 1654), which
# the compose file's replicas run as. Refuses to overwrite an existing certificate: the ring's keys need the one they
# were encrypted with.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
out=secrets/key_ring.pfx
if [ -e "$out" ]; then
  echo "$out exists; the key ring needs the certificate it was encrypted with, so it is kept." >&2
  exit 1
fi
password=$(sed -n 's/^CHURN_KEY_RING_PASSWORD=//p' .env 2>/dev/null | tail -1)
if [ -z "$password" ]; then
  echo "set CHURN_KEY_RING_PASSWORD in deploy/.env first" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=churn-key-ring \
  -keyout "$work/ring.key" -out "$work/ring.crt" 2>/dev/null
CHURN_KEY_RING_PASSWORD=$password openssl pkcs12 -export -inkey "$work/ring.key" -in "$work/ring.crt" \
  -out "$work/ring.pfx" -passout env:CHURN_KEY_RING_PASSWORD
install -m 0400 -o 1654 "$work/ring.pfx" "$out"
echo "made $out (readable by uid 1654 only); keep a copy with your backups"
