// Loads grpc.testing.TestService and UnimplementedService (protos/grpc/testing, the interop protos) with
// @grpc/proto-loader, for the grpc-js interop client and server.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [path.join(__dirname, 'protos')],
  keepCase: false,
  longs: String,
  enums: Number,
  defaults: true,
});
const testing = grpc.loadPackageDefinition(definition).grpc.testing;

module.exports = {
  grpc,
  TestService: testing.TestService,
  UnimplementedService: testing.UnimplementedService,
  ECHO_INITIAL_KEY: 'x-grpc-test-echo-initial',
  ECHO_TRAILING_KEY: 'x-grpc-test-echo-trailing-bin',
  // grpc-js's value of the channel option grpc.default_compression_algorithm for gzip.
  GZIP: 2,
};
