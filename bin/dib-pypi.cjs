#!/usr/bin/env -S node --
// The dib-pypi command: runs the bundled CLI (dist/cli/dib-pypi.cjs: in the package as shipped; npm run build writes it in a checkout).
// `node --`: Node 20 reads a --env-file anywhere on its command line, even after the script, unless -- ends its options.
'use strict';
require('../dist/cli/dib-pypi.cjs');
