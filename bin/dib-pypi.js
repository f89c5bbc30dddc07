#!/usr/bin/env node
// The dib-pypi command: runs the compiled CLI (npm install / npm run build compile it to dist/).
import '../dist/src/cli/main.js';
