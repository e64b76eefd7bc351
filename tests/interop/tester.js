// Loads the Tester service of tests/MachTransport.Grpc.Tests/Protos/test.proto with @grpc/proto-loader.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const protoPath = path.join(__dirname, '..', 'MachTransport.Grpc.Tests', 'Protos', 'test.proto');
const definition = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, enums: Number, defaults: true });

module.exports = { grpc, Tester: grpc.loadPackageDefinition(definition).machtransport.tests.Tester };
