#!/usr/bin/env node
// An xDS client on @grpc/grpc-js, gRPC's pure JavaScript implementation (no code shared with
// Monomesh or with gRPC's C core), driven line by line by an integration test:
//
//   node ads_driver.js --target 127.0.0.1:15010 --node sidecar~10.1.0.1~pp-1.default~default.svc.cluster.local \
//        [--metadata '{"NETWORK":"net1"}'] [--mode sotw|delta]
//
// It opens StreamAggregatedResources (sotw) or DeltaAggregatedResources (delta) and keeps, per
// type, what a proxy keeps: the names it subscribed to, the last response (version, nonce) and the
// version it ACKed, so ACKs and NACKs carry what Envoy would send. Each command is one JSON line
// on stdin, each answer one JSON line on stdout:
//   {"op":"subscribe","type":"CDS","names":[...]}      sotw: a (new) subscription
//   {"op":"delta","type":"EDS","subscribe":[...],"unsubscribe":[...],"initial":{name:version}}
//   {"op":"next","timeout_ms":5000}                    the next response, decoded
//   {"op":"ack","type":"CDS"}                          ACK the last response of that type
//   {"op":"nack","type":"CDS","message":"..."}         NACK it (error_detail, the last ACKed version)
//   {"op":"quiet","ms":500}                            every response arriving within that time
//   {"op":"close"}                                     half-close and report the stream's status
// Answers: {"ready":...}, {"sent":request}, {"response":...}, {"responses":[...]}, {"ended":status},
// {"error":"..."}. The process exits when stdin closes.
'use strict';

const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const { loadPackageDefinition, loadDecoderRoot, decodeAny } = require('./xds_protos');

const TYPE_URLS = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
};
const INVALID_ARGUMENT = 3;

function parseArgs(argv) {
  const args = { mode: 'sotw', metadata: '{}' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['target', 'node', 'metadata', 'mode'].includes(key) || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  if (!args.target || !args.node) throw new Error('--target and --node are required');
  if (!['sotw', 'delta'].includes(args.mode)) throw new Error(`--mode ${args.mode}: sotw or delta`);
  return args;
}

function say(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

// Responses as they arrive, and the stream's end; next() waits with a deadline.
class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
    this.ended = null;
  }
  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }
  end(status) {
    if (this.ended) return;
    this.ended = status;
    for (const waiter of this.waiters.splice(0)) waiter(null);
  }
  next(timeoutMs) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

function nodeMessage(id, metadataJson) {
  const metadata = JSON.parse(metadataJson);
  const fields = {};
  for (const [key, value] of Object.entries(metadata)) fields[key] = { string_value: String(value) };
  return { id, cluster: 'istio-proxy', metadata: { fields } };
}

class Client {
  constructor(args) {
    this.mode = args.mode;
    this.node = nodeMessage(args.node, args.metadata);
    this.root = loadDecoderRoot();
    const definition = loadPackageDefinition();
    const proto = grpc.loadPackageDefinition(definition);
    const Ads = proto.envoy.service.discovery.v3.AggregatedDiscoveryService;
    this.stub = new Ads(args.target, grpc.credentials.createInsecure());
    this.call = this.mode === 'delta' ? this.stub.DeltaAggregatedResources() : this.stub.StreamAggregatedResources();
    this.inbox = new Inbox();
    this.types = {};  // type URL -> {names, last, acked}
    this.first = true;
    this.call.on('data', (response) => this.inbox.push(response));
    this.call.on('status', (status) => this.inbox.end({ code: status.code, details: status.details }));
    this.call.on('error', (error) => this.inbox.end({ code: error.code, details: error.details }));
    this.types_loaded = Object.keys(definition).length;
  }

  type(name) {
    const url = TYPE_URLS[name] || name;
    if (!this.types[url]) this.types[url] = { names: [], last: null, acked: '' };
    return [url, this.types[url]];
  }

  send(request) {
    if (this.first) {
      request.node = this.node;  // the first request identifies the proxy, as Envoy's does
      this.first = false;
    }
    this.call.write(request);
    const shown = { ...request };
    delete shown.node;
    return { sent: shown };
  }

  decode(response) {
    // proto-loader leaves fields at their default out (defaults: false): say them explicitly.
    const out = { type_url: response.type_url || '', nonce: response.nonce || '' };
    if (this.mode === 'delta') {
      out.system_version_info = response.system_version_info || '';
      out.resources = (response.resources || []).map((r) => ({ name: r.name, version: r.version, resource: decodeAny(this.root, r.resource) }));
      out.removed_resources = response.removed_resources || [];
    } else {
      out.version_info = response.version_info || '';
      out.resources = (response.resources || []).map((any) => decodeAny(this.root, any));
    }
    const [, state] = this.type(response.type_url);
    state.last = response;
    return out;
  }

  async run(command) {
    switch (command.op) {
      case 'subscribe': {
        const [url, state] = this.type(command.type);
        state.names = command.names || [];
        return this.send({ type_url: url, version_info: state.acked, resource_names: state.names, response_nonce: state.last ? state.last.nonce : '' });
      }
      case 'delta': {
        const [url] = this.type(command.type);
        return this.send({
          type_url: url,
          resource_names_subscribe: command.subscribe || [],
          resource_names_unsubscribe: command.unsubscribe || [],
          initial_resource_versions: command.initial || {},
        });
      }
      case 'ack':
      case 'nack': {
        const [url, state] = this.type(command.type);
        if (!state.last) return { error: `no ${command.type} response to ${command.op}` };
        const request = { type_url: url, response_nonce: state.last.nonce };
        if (this.mode === 'sotw') {
          request.resource_names = state.names;
          // A NACK names the version still in use: the last one ACKed.
          request.version_info = command.op === 'ack' ? state.last.version_info || '' : state.acked;
          if (command.op === 'ack') state.acked = request.version_info;
        }
        if (command.op === 'nack') request.error_detail = { code: INVALID_ARGUMENT, message: command.message || 'rejected' };
        return this.send(request);
      }
      case 'next': {
        const response = await this.inbox.next(command.timeout_ms || 5000);
        if (response === undefined) return { error: `no response within ${command.timeout_ms || 5000} ms` };
        if (response === null) return { ended: this.inbox.ended };
        return { response: this.decode(response) };
      }
      case 'quiet': {
        const deadline = Date.now() + (command.ms || 500);
        const responses = [];
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          const response = await this.inbox.next(left);
          if (!response) break;
          responses.push(this.decode(response));
        }
        return { responses };
      }
      case 'close': {
        this.call.end();
        // Responses still in flight are dropped; the server ends the stream after the half-close.
        const deadline = Date.now() + (command.timeout_ms || 5000);
        while (!this.inbox.ended && Date.now() < deadline) await this.inbox.next(deadline - Date.now());
        this.stub.close();
        return this.inbox.ended ? { ended: this.inbox.ended } : { error: 'the stream did not end' };
      }
      default:
        return { error: `unknown op ${JSON.stringify(command.op)}` };
    }
  }
}

async function main() {
  let client;
  try {
    client = new Client(parseArgs(process.argv.slice(2)));
  } catch (e) {
    say({ error: `start: ${e.message}` });
    process.exit(1);
  }
  say({ ready: true, grpc_js: require('@grpc/grpc-js/package.json').version, types: client.types_loaded });
  const lines = readline.createInterface({ input: process.stdin });
  // Commands run one at a time, in order.
  let chain = Promise.resolve();
  lines.on('line', (line) => {
    chain = chain.then(async () => {
      let command;
      try {
        command = JSON.parse(line);
      } catch (e) {
        say({ error: `not JSON: ${line}` });
        return;
      }
      try {
        say(await client.run(command));
      } catch (e) {
        say({ error: `${command.op}: ${e.message}` });
      }
    });
  });
  lines.on('close', () => chain.then(() => process.exit(0)));
}

main();
