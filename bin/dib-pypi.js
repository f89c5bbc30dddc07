#!/usr/bin/env -S node --
// The dib-pypi command: runs the compiled CLI (npm install / npm run build compile it to dist/).
// (`node --`: Node 20 reads a --env-file anywhere on its command line, even after the script, unless -- ends its options.)
import '../dist/src/cli/main.js';
