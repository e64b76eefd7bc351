// An HTTP/2 client independent of .NET (node's built-in http2 module, prior knowledge, no package), to check
// what crosses machctl bridge. One command per run; prints one result line and exits 0, or prints "FAIL <why>"
// and exits 1:
//   get PORT PATH                  -> "<status> <body>"
//   upload PORT BYTES              -> "<bytes> <sha256 of what was sent> <server's answer>" (POST /sha256)
//   download PORT BYTES SEED       -> "<bytes received> <sha256 of them>"                 (GET /bytes)
//   cut PORT PATH                  -> "STARTED" once data flows, then "CLOSED <how> <bytes>" when the connection
//                                      ends; the test kills the server between the two lines
'use strict';
const http2 = require('http2');
const crypto = require('crypto');

const [command, port, ...rest] = process.argv.slice(2);
const GUARD_MS = 60000; // a bound for every command: a stuck transfer fails instead of hanging the test
const fail = why => { console.log(`FAIL ${why}`); process.exit(1); };
setTimeout(() => fail(`no end after ${GUARD_MS} ms`), GUARD_MS).unref();

const session = http2.connect(`http://127.0.0.1:${port}`);
session.on('error', error => { if (command !== 'cut') fail(`session: ${error.message}`); });

function request(headers, body) {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) {
    // Written in 1 MiB pieces with back-pressure: the bridge's flow control is part of what is tested.
    let offset = 0;
    const writeMore = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 1024 * 1024);
        offset += piece.length;
        if (!stream.write(piece)) return stream.once('drain', writeMore);
      }
      stream.end();
    };
    writeMore();
  }
  return stream;
}

function readAll(stream, onChunk) {
  return new Promise((resolve, reject) => {
    let status;
    stream.on('response', headers => { status = headers[':status']; });
    stream.on('data', onChunk);
    stream.on('end', () => resolve(status));
    stream.on('error', reject);
  });
}

const commands = {
  async get(path) {
    const chunks = [];
    const status = await readAll(request({ ':path': path }), chunk => chunks.push(chunk));
    return `${status} ${Buffer.concat(chunks).toString()}`;
  },
  async upload(bytes) {
    const body = crypto.randomBytes(Number(bytes));
    const chunks = [];
    const status = await readAll(request({ ':method': 'POST', ':path': '/sha256' }, body), chunk => chunks.push(chunk));
    if (status !== 200) fail(`status ${status}`);
    const sent = crypto.createHash('sha256').update(body).digest('hex').toUpperCase();
    return `${body.length} ${sent} ${Buffer.concat(chunks).toString()}`;
  },
  async download(bytes, seed) {
    const hash = crypto.createHash('sha256');
    let received = 0;
    const status = await readAll(request({ ':path': `/bytes?n=${bytes}&seed=${seed}` }), chunk => { received += chunk.length; hash.update(chunk); });
    if (status !== 200) fail(`status ${status}`);
    return `${received} ${hash.digest('hex').toUpperCase()}`;
  },
  cut(path) {
    return new Promise(resolve => {
      let received = 0;
      let how = 'end';
      const stream = request({ ':path': path });
      stream.on('data', chunk => { if (received === 0) console.log('STARTED'); received += chunk.length; });
      stream.on('error', error => { how = error.code || error.message; });
      session.on('error', error => { how = error.code || error.message; });
      // The bridged TCP connection closing ends the session: that is what the test waits for.
      session.on('close', () => resolve(`CLOSED ${how} ${received}`));
    });
  },
};

if (!commands[command] || !port) {
  console.error('usage: node h2client.js get PORT PATH | upload PORT BYTES | download PORT BYTES SEED | cut PORT PATH');
  process.exit(2);
}
commands[command](...rest).then(
  line => { console.log(line); process.exit(0); },
  error => fail(error.message));
