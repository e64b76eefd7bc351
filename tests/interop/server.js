// A grpc-js server of Echo and Countdown (semantics in test.proto) on 127.0.0.1:<random port>, h2c.
// Prints "READY <port>"; exits when stdin closes or says "stop".
'use strict';
const readline = require('readline');
const { grpc, Tester } = require('./tester');

function echo(call, callback) {
  const headers = new grpc.Metadata();
  const trailers = new grpc.Metadata();
  const [echoValue] = call.metadata.get('x-echo');
  const [echoBytes] = call.metadata.get('x-echo-bin');
  if (echoValue !== undefined) {
    headers.set('x-echo', echoValue);
    trailers.set('x-echo-trailer', echoValue);
  }
  if (echoBytes !== undefined) {
    trailers.set('x-echo-bin', echoBytes);
  }
  call.sendMetadata(headers);

  const request = call.request;
  const reply = () => {
    if (request.statusCode !== 0) {
      const errorTrailers = new grpc.Metadata();
      errorTrailers.set('x-error', 'details');
      errorTrailers.set('x-error-bin', Buffer.from([1, 2, 3]));
      callback({ code: request.statusCode, details: request.statusDetail, metadata: errorTrailers });
      return;
    }
    // grpc-js gives the deadline as a Date or as epoch milliseconds (Infinity for none).
    const deadline = Number(call.getDeadline());
    const deadlineMs = Number.isFinite(deadline) ? deadline - Date.now() : -1;
    callback(null, { message: request.message, payload: request.payload, deadlineMs: String(deadlineMs) }, trailers);
  };
  if (request.delayMs > 0) {
    const timer = setTimeout(reply, request.delayMs);
    call.on('cancelled', () => clearTimeout(timer));
  } else {
    reply();
  }
}

function countdown(call) {
  for (let i = 1; i <= call.request.count; i++) {
    call.write({ message: `${call.request.message} ${i}` });
  }
  call.end();
}

const server = new grpc.Server();
server.addService(Tester.service, { echo, countdown });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(`READY ${port}`);
});

const input = readline.createInterface({ input: process.stdin });
const stop = () => server.tryShutdown(() => process.exit(0));
input.on('line', line => { if (line === 'stop') stop(); });
input.on('close', stop);
