// Validates brook's generated AsyncAPI documents with the official parser (@asyncapi/parser):
// every document, 3.0.0 and 2.6.0, JSON and YAML, must parse with zero error diagnostics. Also
// checks that each YAML file reads back (js-yaml) as exactly its JSON twin, and that the
// expected channels and messages are there.
//
// usage: node validate.mjs --tools DIR --gen GEN_EXAMPLE --out DIR
//   --tools  directory prepared by scripts/asyncapi-tools.sh
//   --gen    the asyncapi_gen_example program; it writes the documents into --out
// Exit codes: 0 pass, 1 fail, 77 skipped (tools missing and BROOK_ASYNCAPI_REQUIRE_TOOLS unset).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

function option(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) {
    console.error(`missing ${name}; usage: node validate.mjs --tools DIR --gen GEN_EXAMPLE --out DIR`);
    process.exit(2);
  }
  return resolve(process.argv[i + 1]);
}

const tools = option('--tools');
const gen = option('--gen');
const out = option('--out');

if (!existsSync(join(tools, 'node_modules', '@asyncapi', 'parser'))) {
  console.error(`@asyncapi/parser is not installed in ${tools}; run scripts/asyncapi-tools.sh ${tools}`);
  process.exit(process.env.BROOK_ASYNCAPI_REQUIRE_TOOLS === '1' ? 1 : 77);
}
// The packages live in the tools directory, not next to this script.
const require = createRequire(join(tools, 'package.json'));
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');
const yaml = require('js-yaml');

execFileSync(gen, ['--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });

// Names FastStream would give the example's endpoints (see gen_example.cpp).
const expected = {
  '3.0.0': {
    channels: ['orders.created:HandleOrderCreated', 'orders.{region}.cancelled:HandleCancel',
               'jobs-worker', 'audit.events:HandleAudit', 'orders.confirmed:Publisher',
               'notifications:Publisher'],
    operations: ['orders.created:HandleOrderCreatedSubscribe',
                 'orders.{region}.cancelled:HandleCancelSubscribe', 'jobs-worker',
                 'audit.events:HandleAuditSubscribe', 'orders.confirmed:Publisher',
                 'notifications:Publisher'],
    messages: ['orders.created:HandleOrderCreated:SubscribeMessage',
               'orders.confirmed:Publisher:Message'],
  },
  '2.6.0': {
    channels: ['orders.created:HandleOrderCreated', 'orders.{region}.cancelled:HandleCancel',
               'jobs-worker', 'audit/events:HandleAudit', 'orders.confirmed:Publisher',
               'notifications:Publisher'],
    operations: ['orders.created:HandleOrderCreatedSubscribe',
                 'orders.{region}.cancelled:HandleCancelSubscribe', 'jobs-worker',
                 'audit.events:HandleAuditSubscribe', 'orders.confirmed:Publisher',
                 'notifications:Publisher'],
    messages: ['orders.created:HandleOrderCreated:Message', 'orders.confirmed:Publisher:Message'],
  },
};

const parser = new Parser();
let failures = 0;
function fail(message) {
  console.error(`FAIL ${message}`);
  failures += 1;
}

function sameSet(what, actual, wanted) {
  const a = [...actual].sort();
  const w = [...wanted].sort();
  if (!isDeepStrictEqual(a, w)) {
    fail(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(w)}`);
  }
}

for (const version of ['3.0.0', '2.6.0']) {
  const jsonFile = join(out, `asyncapi-${version}.json`);
  const yamlFile = join(out, `asyncapi-${version}.yaml`);
  const jsonText = readFileSync(jsonFile, 'utf8');
  const yamlText = readFileSync(yamlFile, 'utf8');

  if (!isDeepStrictEqual(yaml.load(yamlText), JSON.parse(jsonText))) {
    fail(`${yamlFile} does not read back as ${jsonFile}`);
  }

  for (const [file, text] of [[jsonFile, jsonText], [yamlFile, yamlText]]) {
    const { document, diagnostics } = await parser.parse(text, { source: file });
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
    console.log(`${file}: ${errors.length} errors, ${warnings.length} warnings`);
    for (const d of diagnostics.filter((x) => x.severity <= DiagnosticSeverity.Warning)) {
      const kind = d.severity === DiagnosticSeverity.Error ? 'error' : 'warning';
      console.log(`  ${kind} ${d.code} at ${JSON.stringify(d.path)}: ${d.message}`);
    }
    if (errors.length > 0 || !document) {
      fail(`${file}: the parser reported errors`);
      continue;
    }
    if (document.version() !== version) {
      fail(`${file}: version ${document.version()}, want ${version}`);
    }
    const want = expected[version];
    sameSet(`${file} channels`, document.channels().all().map((c) => c.id()), want.channels);
    sameSet(`${file} operations`, document.operations().all().map((o) => o.id()), want.operations);
    const messageIds = document.components().messages().all().map((m) => m.id());
    for (const m of want.messages) {
      if (!messageIds.includes(m)) {
        fail(`${file}: message ${m} missing; have ${JSON.stringify(messageIds)}`);
      }
    }
    // Every message must carry the correlation id location FastStream uses.
    for (const m of document.allMessages().all()) {
      if (m.correlationId()?.location() !== '$message.header#/correlation_id') {
        fail(`${file}: message ${m.id()} lacks correlationId`);
      }
    }
  }
}

if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all AsyncAPI documents valid');
