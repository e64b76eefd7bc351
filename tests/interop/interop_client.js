// A grpc-js interop client: runs one case of doc/interop-test-descriptions.md (grpc/grpc) against a
// grpc.testing.TestService server over plaintext h2c.
// usage: node interop_client.js --server_host=127.0.0.1 --server_port=PORT --test_case=NAME
// Prints "PASS <case>" and exits 0, or "FAIL <case>: <why>" and exits 1.
//
// server_compressed_unary: grpc-js hands the client decoded messages only, never their compressed flag, so this
// client checks that both calls succeed with the right payload; whether the server set the flag is left to a
// client that can see it (the spec allows this: "some languages may not have access to the message flags").
'use strict';
const assert = require('assert/strict');
const { grpc, TestService, UnimplementedService, ECHO_INITIAL_KEY, ECHO_TRAILING_KEY, GZIP } = require('./testservice');

const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=', 2)));
const address = `${args.server_host || '127.0.0.1'}:${args.server_port}`;
const testCase = args.test_case;
const newClient = (type = TestService, options = {}) => new type(address, grpc.credentials.createInsecure(), options);
const client = newClient();
const deadline = (ms = 30000) => ({ deadline: new Date(Date.now() + ms) });
const zeros = size => ({ type: 0, body: Buffer.alloc(size) });
const largeRequest = extra => ({ responseSize: 314159, payload: zeros(271828), ...extra });
const ECHO_TRAILING_VALUE = Buffer.from([0xab, 0xab, 0xab]);

function assertZeros(payload, size) {
  assert.equal(payload.body.length, size);
  assert.ok(payload.body.every(b => b === 0), 'payload body is not all zeros');
}

// A unary call: resolves { error, reply, headers, status } once both the reply and the status are in.
function unary(target, method, request, metadata = new grpc.Metadata(), options = deadline()) {
  return new Promise(resolve => {
    const result = {};
    const done = () => { if ('reply' in result && result.status) resolve(result); };
    const call = target[method](request, metadata, options, (error, reply) => { result.error = error; result.reply = reply; done(); });
    call.on('metadata', m => { result.headers = m; });
    call.on('status', s => { result.status = s; done(); });
  });
}

// A streaming call's responses and status: resolves { replies, headers, status, error }.
function collect(call) {
  return new Promise(resolve => {
    const result = { replies: [] };
    call.on('metadata', m => { result.headers = m; });
    call.on('data', reply => result.replies.push(reply));
    call.on('error', error => { result.error = error; });
    call.on('status', status => { result.status = status; setImmediate(() => resolve(result)); });
  });
}

function echoMetadata() {
  const metadata = new grpc.Metadata();
  metadata.set(ECHO_INITIAL_KEY, 'test_initial_metadata_value');
  metadata.set(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE);
  return metadata;
}

function assertEchoed(headers, trailers) {
  assert.deepEqual(headers.get(ECHO_INITIAL_KEY), ['test_initial_metadata_value']);
  assert.deepEqual(trailers.get(ECHO_TRAILING_KEY), [ECHO_TRAILING_VALUE]);
}

async function assertStatusEchoed(message) {
  const { error } = await unary(client, 'unaryCall', { responseStatus: { code: 2, message } });
  assert.equal(error.code, 2);
  assert.equal(error.details, message);

  const call = client.fullDuplexCall(deadline());
  const result = collect(call);
  call.write({ responseStatus: { code: 2, message } });
  call.end();
  const { status } = await result;
  assert.equal(status.code, 2);
  assert.equal(status.details, message);
}

const cases = {
  async empty_unary() {
    const { error, reply } = await unary(client, 'emptyCall', {});
    assert.equal(error, null);
    assert.deepEqual(reply, {});
  },
  async large_unary() {
    const { error, reply } = await unary(client, 'unaryCall', largeRequest());
    assert.equal(error, null);
    assertZeros(reply.payload, 314159);
  },
  async client_compressed_unary() {
    const probe = await unary(client, 'unaryCall', largeRequest({ expectCompressed: { value: true } }));
    assert.equal(probe.error && probe.error.code, grpc.status.INVALID_ARGUMENT, 'the uncompressed probe was not rejected');

    const gzipClient = newClient(TestService, { 'grpc.default_compression_algorithm': GZIP });
    const compressed = await unary(gzipClient, 'unaryCall', largeRequest({ expectCompressed: { value: true } }));
    gzipClient.close();
    assert.equal(compressed.error, null);
    assertZeros(compressed.reply.payload, 314159);

    const plain = await unary(client, 'unaryCall', largeRequest({ expectCompressed: { value: false } }));
    assert.equal(plain.error, null);
    assertZeros(plain.reply.payload, 314159);
  },
  async server_compressed_unary() {
    for (const value of [true, false]) {
      const { error, reply } = await unary(client, 'unaryCall', largeRequest({ responseCompressed: { value } }));
      assert.equal(error, null);
      assertZeros(reply.payload, 314159);
    }
  },
  async client_streaming() {
    const reply = await new Promise((resolve, reject) => {
      const call = client.streamingInputCall(deadline(), (error, response) => (error ? reject(error) : resolve(response)));
      [27182, 8, 1828, 45904].forEach(size => call.write({ payload: zeros(size) }));
      call.end();
    });
    assert.equal(reply.aggregatedPayloadSize, 74922);
  },
  async server_streaming() {
    const sizes = [31415, 9, 2653, 58979];
    const { replies, status } = await collect(client.streamingOutputCall({ responseParameters: sizes.map(size => ({ size })) }, deadline()));
    assert.equal(status.code, grpc.status.OK);
    assert.equal(replies.length, 4);
    replies.forEach((reply, i) => assertZeros(reply.payload, sizes[i]));
  },
  async ping_pong() {
    const requestSizes = [27182, 8, 1828, 45904];
    const responseSizes = [31415, 9, 2653, 58979];
    const call = client.fullDuplexCall(deadline());
    const status = new Promise(resolve => call.on('status', resolve));
    const next = () => new Promise((resolve, reject) => { call.once('data', resolve); call.once('error', reject); });
    for (let i = 0; i < 4; i++) {
      const reply = next();
      call.write({ responseParameters: [{ size: responseSizes[i] }], payload: zeros(requestSizes[i]) });
      assertZeros((await reply).payload, responseSizes[i]);
    }
    call.end();
    assert.equal((await status).code, grpc.status.OK);
  },
  async empty_stream() {
    const call = client.fullDuplexCall(deadline());
    const result = collect(call);
    call.end();
    const { replies, status } = await result;
    assert.equal(status.code, grpc.status.OK);
    assert.equal(replies.length, 0);
  },
  async timeout_on_sleeping_server() {
    const call = client.fullDuplexCall(deadline(1));
    const result = collect(call);
    call.write({ payload: zeros(27182) });
    const { status } = await result;
    assert.equal(status.code, grpc.status.DEADLINE_EXCEEDED);
  },
  async cancel_after_begin() {
    const status = await new Promise(resolve => {
      const call = client.streamingInputCall(deadline(), () => {});
      call.on('status', resolve);
      call.cancel();
    });
    assert.equal(status.code, grpc.status.CANCELLED);
  },
  async cancel_after_first_response() {
    const call = client.fullDuplexCall(deadline());
    const result = collect(call);
    call.once('data', () => call.cancel());
    call.write({ responseParameters: [{ size: 31415 }], payload: zeros(27182) });
    const { replies, status } = await result;
    assert.equal(status.code, grpc.status.CANCELLED);
    assert.equal(replies.length, 1);
  },
  async custom_metadata() {
    const { error, headers, status } = await unary(client, 'unaryCall', largeRequest(), echoMetadata());
    assert.equal(error, null);
    assertEchoed(headers, status.metadata);

    const call = client.fullDuplexCall(echoMetadata(), deadline());
    const result = collect(call);
    call.write({ responseParameters: [{ size: 314159 }], payload: zeros(271828) });
    call.end();
    const duplex = await result;
    assert.equal(duplex.status.code, grpc.status.OK);
    assert.equal(duplex.replies.length, 1);
    assertEchoed(duplex.headers, duplex.status.metadata);
  },
  async status_code_and_message() {
    await assertStatusEchoed('test status message');
  },
  async special_status_message() {
    await assertStatusEchoed('\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \uD83D\uDE08\t\n');
  },
  async unimplemented_method() {
    const { error } = await unary(client, 'unimplementedCall', {});
    assert.equal(error.code, grpc.status.UNIMPLEMENTED);
  },
  async unimplemented_service() {
    const other = newClient(UnimplementedService);
    const { error } = await unary(other, 'unimplementedCall', {});
    other.close();
    assert.equal(error.code, grpc.status.UNIMPLEMENTED);
  },
};

(async () => {
  const run = cases[testCase];
  if (!run || !args.server_port) {
    console.error(`usage: node interop_client.js --server_port=PORT --test_case=${Object.keys(cases).join('|')}`);
    process.exit(2);
  }
  try {
    await run();
    console.log(`PASS ${testCase}`);
    client.close();
    process.exit(0);
  } catch (error) {
    console.log(`FAIL ${testCase}: ${String(error && (error.stack || error.message)).replace(/\n/g, ' | ')}`);
    process.exit(1);
  }
})();
