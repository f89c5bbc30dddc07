#!/usr/bin/env -S node --
// The dib-pypi command: runs the bundled CLI (npm install / npm run build write dist/cli/dib-pypi.cjs).
// `node --`: Node 20 reads a --env-file anywhere on its command line, even after the script, unless -- ends its options.
'use strict';
require('../dist/cli/dib-pypi.cjs');
