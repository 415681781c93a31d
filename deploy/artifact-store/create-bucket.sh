#!/bin/sh
# One-shot job of docker-compose.yml: creates the workers' artifact bucket ($ARTIFACT_BUCKET) in the S3-compatible
# store at $AWS_ENDPOINT_URL if it is not there yet. Idempotent; retries while the store is still starting.
# Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment.
set -eu
: "${ARTIFACT_BUCKET:?set ARTIFACT_BUCKET}"
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL}"
tries=0
until aws s3api head-bucket --bucket "$ARTIFACT_BUCKET" >/dev/null 2>&1; do
  if aws s3api create-bucket --bucket "$ARTIFACT_BUCKET" >/dev/null 2>&1; then
    break
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "could not reach or create bucket $ARTIFACT_BUCKET at $AWS_ENDPOINT_URL" >&2
    aws s3api head-bucket --bucket "$ARTIFACT_BUCKET" # prints the last error
    exit 1
  fi
  sleep 2
done
echo "bucket $ARTIFACT_BUCKET ready at $AWS_ENDPOINT_URL"
