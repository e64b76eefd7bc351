// A grpc-js interop server (grpc.testing.TestService, "Server" features of doc/interop-test-descriptions.md) on
// 127.0.0.1:<free port>, plaintext h2c. Prints "READY <port>"; exits when stdin says "stop" or closes.
//
// What grpc-js (1.14) cannot do, and this server therefore does not pretend to:
// - CompressedResponse: grpc-js writes every server message uncompressed, so a request asking for a compressed
//   response (response_compressed = true) fails with UNIMPLEMENTED and says why;
// - CompressedRequest: grpc-js decompresses requests itself and hides both their grpc-encoding header and the
//   message's compressed flag from the handler, so expect_compressed cannot be checked and is ignored.
'use strict';
const readline = require('readline');
const { grpc, TestService, ECHO_INITIAL_KEY, ECHO_TRAILING_KEY } = require('./testservice');

const cannotCompress = {
  code: grpc.status.UNIMPLEMENTED,
  details: 'this grpc-js server cannot compress responses (grpc-js writes every server message uncompressed)',
};

function echoInitial(call) {
  const [value] = call.metadata.get(ECHO_INITIAL_KEY);
  const headers = new grpc.Metadata();
  if (value !== undefined) headers.set(ECHO_INITIAL_KEY, value);
  call.sendMetadata(headers);
}

function echoTrailing(call) {
  const [value] = call.metadata.get(ECHO_TRAILING_KEY);
  const trailers = new grpc.Metadata();
  if (value !== undefined) trailers.set(ECHO_TRAILING_KEY, value);
  return trailers;
}

const payload = size => ({ type: 0, body: Buffer.alloc(size) });
const statusOf = (call, echo) => ({ code: echo.code, details: echo.message, metadata: echoTrailing(call) });
const wantsCompression = parameters => parameters.some(p => p.compressed && p.compressed.value);

// Writes one response per parameter, each after its interval_us (accumulating), then resolves.
function respond(call, parameters) {
  return parameters.reduce((previous, p) => previous.then(() => new Promise(resolve => {
    setTimeout(() => {
      if (!call.cancelled) call.write({ payload: payload(p.size) });
      resolve();
    }, p.intervalUs / 1000);
  })), Promise.resolve());
}

const handlers = {
  emptyCall(call, callback) {
    echoInitial(call);
    callback(null, {}, echoTrailing(call));
  },
  unaryCall(call, callback) {
    echoInitial(call);
    const request = call.request;
    if (request.responseStatus && request.responseStatus.code !== 0) {
      callback(statusOf(call, request.responseStatus));
    } else if (request.responseCompressed && request.responseCompressed.value) {
      callback(cannotCompress);
    } else {
      callback(null, { payload: payload(request.responseSize) }, echoTrailing(call));
    }
  },
  cacheableUnaryCall(call, callback) {
    callback(null, { payload: { type: 0, body: Buffer.from(String(process.hrtime.bigint())) } });
  },
  streamingOutputCall(call) {
    echoInitial(call);
    const request = call.request;
    if (request.responseStatus && request.responseStatus.code !== 0) {
      call.emit('error', statusOf(call, request.responseStatus));
    } else if (wantsCompression(request.responseParameters)) {
      call.emit('error', cannotCompress);
    } else {
      respond(call, request.responseParameters).then(() => call.end(echoTrailing(call)));
    }
  },
  streamingInputCall(call, callback) {
    echoInitial(call);
    let size = 0;
    call.on('data', request => { size += request.payload ? request.payload.body.length : 0; });
    call.on('end', () => callback(null, { aggregatedPayloadSize: size }, echoTrailing(call)));
  },
  fullDuplexCall(call) {
    echoInitial(call);
    let queue = Promise.resolve();
    let failed = false;
    call.on('data', request => {
      if (failed) return;
      if (request.responseStatus && request.responseStatus.code !== 0) {
        failed = true;
        queue.then(() => call.emit('error', statusOf(call, request.responseStatus)));
      } else if (wantsCompression(request.responseParameters)) {
        failed = true;
        queue.then(() => call.emit('error', cannotCompress));
      } else {
        queue = queue.then(() => respond(call, request.responseParameters));
      }
    });
    call.on('end', () => { if (!failed) queue.then(() => call.end(echoTrailing(call))); });
  },
  halfDuplexCall(call) {
    echoInitial(call);
    const requests = [];
    call.on('data', request => requests.push(request));
    call.on('end', () => {
      const parameters = requests.flatMap(r => r.responseParameters);
      respond(call, parameters).then(() => call.end(echoTrailing(call)));
    });
  },
  // UnimplementedCall is left out on purpose: grpc-js answers it with UNIMPLEMENTED.
};

const server = new grpc.Server();
server.addService(TestService.service, handlers);
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
