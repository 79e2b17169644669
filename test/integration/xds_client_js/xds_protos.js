// Envoy's v3 and Istio's protos from third_party/, loaded twice on purpose: by @grpc/proto-loader
// (what @grpc/grpc-js builds its service stubs from, so this client speaks the wire format that
// library derives from our .proto files) and by protobufjs (to decode the Any resources inside
// responses, typed_config included, into plain objects a test can read). Both resolve
// google/protobuf/*.proto from the copies they ship, as any user of these libraries would.
'use strict';

const fs = require('fs');
const path = require('path');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const THIRD_PARTY = path.resolve(__dirname, '..', '..', '..', 'third_party');

function protoFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.proto')) out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

// snake_case field names as in the .proto files, enums by name, 64-bit numbers as strings.
const LOADER_OPTIONS = { includeDirs: [THIRD_PARTY], keepCase: true, longs: String, enums: String, defaults: false, oneofs: true };

function loadPackageDefinition() {
  return protoLoader.loadSync(protoFiles(THIRD_PARTY), LOADER_OPTIONS);
}

// A protobufjs root over the same files: imports resolve against third_party/, except the
// well-known types protobufjs has built in.
function loadDecoderRoot() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target.startsWith('google/protobuf/')) return target;  // protobufjs' bundled copies
    const candidate = path.join(THIRD_PARTY, target);
    return fs.existsSync(candidate) ? candidate : protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(protoFiles(THIRD_PARTY).map((f) => path.join(THIRD_PARTY, f)), { keepCase: true });
  root.resolveAll();
  return root;
}

// An Any (type_url + bytes) as a plain object with "@type"; nested Anys are expanded too.
function decodeAny(root, any) {
  const name = any.type_url.substring(any.type_url.lastIndexOf('/') + 1);
  const type = root.lookupType(name);
  const message = type.decode(any.value);
  const object = type.toObject(message, { json: true, longs: String, enums: String, bytes: String, defaults: false });
  object['@type'] = any.type_url;
  return object;
}

module.exports = { THIRD_PARTY, protoFiles, loadPackageDefinition, loadDecoderRoot, decodeAny };
