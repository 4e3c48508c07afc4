// The floor for a fleet runner's cached-token path: what Node itself must load and do to answer
// from a copy sealed with AES-256-GCM after one question to Redis — load node:crypto, open a
// connection to the runner's Redis (VAULT_STORE, VAULT_REDIS_PASSWORD), ask one question, read
// the answer — and nothing else (no config, no copy, no vault code).
'use strict';
const { createDecipheriv } = require('node:crypto');
const { connect } = require('node:net');

createDecipheriv('aes-256-gcm', Buffer.alloc(32), Buffer.alloc(12));
const url = new URL(process.env.VAULT_STORE);
const password = decodeURIComponent(url.password) || process.env.VAULT_REDIS_PASSWORD;
const user = url.username ? [decodeURIComponent(url.username)] : [];
const command = (args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const socket = connect({ host: url.hostname, port: Number(url.port) });
socket.write((password ? command(['AUTH', ...user, password]) : '') + command(['PING']));
let seen = '';
socket.on('data', (chunk) => {
  seen += chunk.toString('latin1');
  if (!seen.includes('PONG')) return;
  socket.destroy();
  require('node:fs').writeSync(1, 'answered\n');
});
