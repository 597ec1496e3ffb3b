#!/bin/sh
echo "bazel coverage is not available in the offline Swift build" >&2
exit 1
