// n8n loads this package's nodes and credentials from the "n8n" section of package.json, not from here.
// For use outside n8n, the package main exposes the framework-free core (registry, runner, release gate).
'use strict';

module.exports = require('./dist/lib/index.js');
