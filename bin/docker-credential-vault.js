#!/usr/bin/env node
// Docker, skopeo and podman run a credential helper named in credHelpers as
// `docker-credential-<name> <operation>`: this is `vault docker-credential <operation>`.
'use strict';

const argv = ['docker-credential', ...process.argv.slice(2)];
import('../dist/main.js').then(({ main }) => main(argv));
