#!/usr/bin/env node
// Docker, skopeo and podman run a credential helper named in credHelpers as
// `docker-credential-<name> <operation>`: this is `vault docker-credential <operation>`, through
// the same cached-token path first.
'use strict';

process.argv.splice(2, 0, 'docker-credential');
require('./vault.js');
