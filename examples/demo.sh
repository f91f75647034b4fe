#!/usr/bin/env bash
# The main job on the bundled example photos: ingest (previews, metadata), analyse (signals,
# clusters, ranked winners), then a contact sheet PDF in out/. Uses the default library
# (set KILO_HOME to put it elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
kilo=.venv/bin/kilo

$kilo ingest examples/photos --project demo --create
$kilo clusters list demo
$kilo export demo --preset contact_sheet_pdf --dest out/
