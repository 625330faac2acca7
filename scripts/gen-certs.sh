#!/usr/bin/env bash
# Makes a throwaway CA and, signed by it, a server certificate for 127.0.0.1/localhost and a
# client certificate, for the TLS tests. Idempotent: existing files are kept.
# usage: scripts/gen-certs.sh DIR      -> DIR/{ca,server,client}.{pem,key}
set -euo pipefail
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
[ -f client.pem ] && exit 0
command -v openssl >/dev/null || { echo "gen-certs.sh: openssl not found (apt-get install -y openssl)" >&2; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=brook test CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
sign() {  # name subject extensions
  openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
sign client "/CN=brook client" "extendedKeyUsage=clientAuth"
echo "gen-certs.sh: CA, server and client certificates in $dir"
