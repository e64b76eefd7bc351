// A grpc-js client that checks a Tester server (semantics in test.proto) at the address given as argument, over h2c.
// Prints "PASS <check>" or "FAIL <check>: <why>" per check; exits 0 only if every check passed.
'use strict';
const assert = require('assert/strict');
const { grpc, Tester } = require('./tester');

const address = process.argv[2];
if (!address) {
  console.error('usage: node client.js <host:port>');
  process.exit(2);
}
const client = new Tester(address, grpc.credentials.createInsecure());
const deadline = () => new Date(Date.now() + 20000);

function unary(method, request, metadata = new grpc.Metadata(), options = { deadline: deadline() }) {
  return new Promise(resolve => {
    let headers;
    let status;
    let result;
    const call = client[method](request, metadata, options, (error, reply) => { result = { error, reply }; if (status) resolve({ ...result, headers, status }); });
    call.on('metadata', m => { headers = m; });
    call.on('status', s => { status = s; if (result) resolve({ ...result, headers, status }); });
  });
}

const checks = {
  async unary_with_metadata() {
    const metadata = new grpc.Metadata();
    metadata.set('x-echo', 'from grpc-js');
    metadata.set('x-echo-bin', Buffer.from([0, 1, 254, 255]));
    const { error, reply, headers, status } = await unary('echo', { message: 'hello', payload: Buffer.from('payload') }, metadata);
    assert.equal(error, null);
    assert.equal(reply.message, 'hello');
    assert.equal(Buffer.from(reply.payload).toString(), 'payload');
    assert.ok(Number(reply.deadlineMs) > 0 && Number(reply.deadlineMs) <= 20000, `deadline_ms ${reply.deadlineMs}`);
    assert.deepEqual(headers.get('x-echo'), ['from grpc-js']);
    assert.deepEqual(status.metadata.get('x-echo-trailer'), ['from grpc-js']);
    assert.deepEqual([...status.metadata.get('x-echo-bin')[0]], [0, 1, 254, 255]);
  },
  async server_streaming() {
    const messages = [];
    const status = await new Promise((resolve, reject) => {
      const call = client.countdown({ message: 'n', count: 5 }, { deadline: deadline() });
      call.on('data', reply => messages.push(reply.message));
      call.on('error', reject);
      call.on('status', resolve);
    });
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(messages, ['n 1', 'n 2', 'n 3', 'n 4', 'n 5']);
  },
  async error_status_with_trailers() {
    const detail = 'not here: 100% naïve';
    const { error } = await unary('echo', { statusCode: grpc.status.NOT_FOUND, statusDetail: detail });
    assert.equal(error.code, grpc.status.NOT_FOUND);
    assert.equal(error.details, detail);
    assert.deepEqual(error.metadata.get('x-error'), ['details']);
    assert.deepEqual([...error.metadata.get('x-error-bin')[0]], [1, 2, 3]);
  },
  async deadline_exceeded() {
    const { error } = await unary('echo', { delayMs: 10000 }, new grpc.Metadata(), { deadline: new Date(Date.now() + 300) });
    assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
  },
  async client_streaming() {
    const sum = await new Promise((resolve, reject) => {
      const call = client.sum({ deadline: deadline() }, (error, reply) => (error ? reject(error) : resolve(reply)));
      for (let i = 1; i <= 100; i++) call.write({ value: String(i) });
      call.end();
    });
    assert.equal(sum.value, '5050');
  },
  async duplex_streaming() {
    const replies = [];
    await new Promise((resolve, reject) => {
      const call = client.chat({ deadline: deadline() });
      call.on('data', reply => replies.push(reply.message));
      call.on('error', reject);
      call.on('end', resolve);
      ['a', 'b', 'c'].forEach(message => call.write({ message }));
      call.end();
    });
    assert.deepEqual(replies, ['re: a', 're: b', 're: c']);
  },
  async unimplemented_method() {
    const error = await new Promise(resolve => {
      client.makeUnaryRequest('/machtransport.tests.Tester/NoSuchMethod', x => x, x => x, Buffer.alloc(0), { deadline: deadline() }, e => resolve(e));
    });
    assert.equal(error.code, grpc.status.UNIMPLEMENTED);
  },
};

(async () => {
  let failed = 0;
  for (const [name, check] of Object.entries(checks)) {
    try {
      await check();
      console.log(`PASS ${name}`);
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${String(error && error.message).replace(/\n/g, ' ')}`);
    }
  }
  client.close();
  process.exit(failed === 0 ? 0 : 1);
})();
