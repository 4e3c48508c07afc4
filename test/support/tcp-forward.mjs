// A TCP forwarder for the network-namespace suite: `node tcp-forward.mjs LISTEN_HOST LISTEN_PORT
// TARGET_HOST TARGET_PORT` pipes every connection it accepts to the target, byte for byte (TLS and
// HTTP pass through untouched), and prints "listening" once bound.
import { connect, createServer } from 'node:net';

const [listenHost, listenPort, targetHost, targetPort] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = connect(Number(targetPort), targetHost);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(Number(listenPort), listenHost, () => process.stdout.write('listening\n'));
