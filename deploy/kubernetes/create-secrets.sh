#!/usr/bin/env bash
# Creates the files the Kubernetes secrets are generated from (secrets/kustomization.yaml), once: a file that
# exists is kept, since a new store pepper or new signing keys would end every session and token.
#
#   npm ci && npm run build                      # the signing keys and users come from Cloakroom's CLI
#   REDIS_URL='rediss://user:password@redis.example.internal:6380' deploy/kubernetes/create-secrets.sh
#   printf '%s' "$PASSWORD" | npm run cloakroom -- users set alice --password-stdin --file deploy/kubernetes/secrets/users.yaml
#   kubectl apply -k deploy/kubernetes/overlays/external-redis
#
# Environment: REDIS_URL, or REDIS_PASSWORD (Sentinel, Cluster), and REDIS_USERNAME, go into secrets/redis.env.
# Argument: another directory to write to (default: secrets/ beside this script).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${1:-$here/secrets}"
cli="$repo/apps/cli/dist/main.js"
if [ ! -f "$cli" ]; then
  echo "create-secrets: $cli is missing: run \`npm ci && npm run build\` first" >&2
  exit 1
fi
mkdir -p "$dir"
umask 077

random() { # n bytes, base64url: 48 bytes give 64 characters
  node -e 'process.stdout.write(require("node:crypto").randomBytes(Number(process.argv[1])).toString("base64url"))' "$1"
}
created=()
create() { # file, then the command that writes its content to stdout
  local file="$dir/$1"
  shift
  if [ -e "$file" ]; then return; fi
  "$@" >"$file.tmp"
  mv "$file.tmp" "$file"
  created+=("$(basename "$file")")
}

create gateway-client-secret random 48
create introspection-client-secret random 48
create cookie-keys random 48
create store-pepper random 48
if [ ! -e "$dir/jwks.json" ]; then
  node "$cli" keys generate --file "$dir/jwks.json" >/dev/null
  created+=(jwks.json)
fi
# No user yet: add them with `users set … --file`, then apply again (the new Secret rolls the pods).
create users.yaml printf 'users: {}\n'
redis_env() {
  echo '# NAME=value, one a line: REDIS_URL (external-redis), or REDIS_PASSWORD (Sentinel, Cluster); REDIS_USERNAME'
  for name in REDIS_URL REDIS_PASSWORD REDIS_USERNAME; do
    if [ -n "${!name:-}" ]; then printf '%s=%s\n' "$name" "${!name}"; fi
  done
}
create redis.env redis_env

if [ ${#created[@]} -eq 0 ]; then
  echo "create-secrets: every file was already in $dir; nothing changed"
else
  echo "create-secrets: wrote ${created[*]} in $dir"
fi
