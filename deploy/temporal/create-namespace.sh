#!/bin/sh
# Creates the namespace if it is missing and registers the search attributes the workflows upsert.
# Idempotent: an existing namespace or search attribute is left as it is.
#   SEARCH_ATTRIBUTES  space-separated NAME=Type pairs (docker-compose.yml sets it; the test in
#                      test/static/docker-compose.test.ts keeps it equal to contracts/search-attributes.ts)
set -eu
NAMESPACE="${DEFAULT_NAMESPACE:-default}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
RETENTION="${NAMESPACE_RETENTION:-720h}"
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required (NAME=Type ...)}"

echo "Waiting for Temporal at ${ADDRESS}..."
attempt=1
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  [ "$attempt" -ge 60 ] && { echo "Temporal at ${ADDRESS} did not become healthy"; exit 1; }
  attempt=$((attempt + 1)); sleep 3
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "namespace ${NAMESPACE} already exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
  echo "namespace ${NAMESPACE} created (retention ${RETENTION})"
fi

has_attribute() {
  temporal operator search-attribute list --namespace "$NAMESPACE" --address "$ADDRESS" 2>/dev/null | grep -qw "$1"
}

for pair in $SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"; type="${pair##*=}"
  if has_attribute "$name"; then
    echo "search attribute ${name} already registered"
    continue
  fi
  # A freshly created namespace can take a few seconds to be usable: retry.
  attempt=1
  until temporal operator search-attribute create --name "$name" --type "$type" --namespace "$NAMESPACE" --address "$ADDRESS"; do
    if has_attribute "$name"; then break; fi
    [ "$attempt" -ge 20 ] && { echo "could not register search attribute ${name}"; exit 1; }
    attempt=$((attempt + 1)); sleep 3
  done
  echo "search attribute ${name} (${type}) registered"
done
echo "namespace ${NAMESPACE} ready"
