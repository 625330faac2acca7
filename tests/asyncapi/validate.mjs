// Validates brook's generated AsyncAPI documents with the official parser (@asyncapi/parser):
// every document, 3.0.0 and 2.6.0, JSON and YAML, must parse with zero error diagnostics. Also
// checks that each YAML file reads back (js-yaml) as exactly its JSON twin, that every message
// declares FastStream's correlation id location, and that the expected channels and messages are
// there.
//
// usage: node validate.mjs --tools DIR --out DIR (--gen GEN_EXAMPLE | --service PROGRAM [EXPECT...])
//   --tools    directory prepared by scripts/asyncapi-tools.sh
//   --out      where the documents are written (asyncapi-<version>.<json|yaml>)
//   --gen      the asyncapi_gen_example program; its names are checked against the table below
//   --service  a brook service (e.g. samples' greeter): the documents come from its real CLI,
//              `PROGRAM docs gen --asyncapi V --format F --out FILE`, and are checked against
//   EXPECT     --channel NAME     a channel, as named in 3.0.0 (all channels must be listed)
//              --message NAME     a message component, as named in 3.0.0
//              --payload NAME     a schema component that the listed channels' messages carry
//              (repeat each; 2.6.0 names are derived by FastStream's rules, docs/asyncapi.md)
// Exit codes: 0 pass, 1 fail, 2 usage, 77 skipped (tools missing and
// BROOK_ASYNCAPI_REQUIRE_TOOLS unset).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const usage = 'usage: node validate.mjs --tools DIR --out DIR (--gen GEN_EXAMPLE | --service PROGRAM '
  + '[--channel NAME]... [--message NAME]... [--payload NAME]...)';
const argv = process.argv.slice(2);
const values = {};
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i];
  if (!['--tools', '--out', '--gen', '--service', '--channel', '--message', '--payload'].includes(name)
      || i + 1 >= argv.length) {
    console.error(`bad argument ${name}; ${usage}`);
    process.exit(2);
  }
  (values[name] ??= []).push(argv[i + 1]);
}
function option(name) {
  if (!values[name]) {
    console.error(`missing ${name}; ${usage}`);
    process.exit(2);
  }
  return resolve(values[name][0]);
}

const tools = option('--tools');
const out = option('--out');
if (Boolean(values['--gen']) === Boolean(values['--service'])) {
  console.error(`give exactly one of --gen and --service; ${usage}`);
  process.exit(2);
}

if (!existsSync(join(tools, 'node_modules', '@asyncapi', 'parser'))) {
  console.error(`@asyncapi/parser is not installed in ${tools}; run scripts/asyncapi-tools.sh ${tools}`);
  process.exit(process.env.BROOK_ASYNCAPI_REQUIRE_TOOLS === '1' ? 1 : 77);
}
// The packages live in the tools directory, not next to this script.
const require = createRequire(join(tools, 'package.json'));
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');
const yaml = require('js-yaml');

const versions = ['3.0.0', '2.6.0'];
const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
let check;  // (file, document, version): the mode's name checks
if (values['--gen']) {
  execFileSync(option('--gen'), ['--out', out], quiet);
  check = checkExample;
} else {
  // Through the service's own CLI, exactly as a user would write them.
  const service = option('--service');
  mkdirSync(out, { recursive: true });
  for (const version of versions) {
    for (const format of ['json', 'yaml']) {
      execFileSync(service, ['docs', 'gen', '--asyncapi', version, '--format', format,
                             '--out', join(out, `asyncapi-${version}.${format}`)], quiet);
    }
  }
  check = checkService;
}

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

// The example's fixed names.
function checkExample(file, document, version) {
  const want = expected[version];
  sameSet(`${file} channels`, document.channels().all().map((c) => c.id()), want.channels);
  sameSet(`${file} operations`, document.operations().all().map((o) => o.id()), want.operations);
  const messageIds = document.components().messages().all().map((m) => m.id());
  for (const m of want.messages) {
    if (!messageIds.includes(m)) {
      fail(`${file}: message ${m} missing; have ${JSON.stringify(messageIds)}`);
    }
  }
}

// The names given on the command line, in 3.0.0 form; 2.6.0 keeps `/` in channel names and
// calls a subscriber's message `{channel}:Message` instead of `{channel}:SubscribeMessage`.
function checkService(file, document, version) {
  const v2 = version === '2.6.0';
  const channelName = (c) => (v2 ? c.id().replaceAll('/', '.') : c.id());
  const wantChannels = values['--channel'] ?? [];
  const wantMessages = (values['--message'] ?? [])
    .map((m) => (v2 ? m.replace(/:SubscribeMessage$/, ':Message') : m));
  const wantPayloads = values['--payload'] ?? [];

  const channels = document.channels().all();
  if (channels.length === 0) {
    fail(`${file}: no channels`);
  }
  if (wantChannels.length > 0) {
    sameSet(`${file} channels`, channels.map(channelName), wantChannels);
  }
  const messageIds = document.components().messages().all().map((m) => m.id());
  for (const m of wantMessages) {
    if (!messageIds.includes(m)) {
      fail(`${file}: message ${m} missing; have ${JSON.stringify(messageIds)}`);
    }
  }
  // A payload counts only when a message of a channel carries it, not merely as a component.
  const schemaIds = document.components().schemas().all().map((s) => s.id());
  const carried = channels.flatMap((c) => c.messages().all().map((m) => m.payload()?.id()));
  for (const p of wantPayloads) {
    if (!schemaIds.includes(p)) {
      fail(`${file}: schema ${p} missing; have ${JSON.stringify(schemaIds)}`);
    }
    if (!carried.includes(p)) {
      fail(`${file}: no channel's message carries ${p}; payloads ${JSON.stringify(carried)}`);
    }
  }
}

for (const version of versions) {
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
    check(file, document, version);
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
