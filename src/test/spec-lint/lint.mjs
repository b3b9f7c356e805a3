// Lints Parley's API specs: node lint.mjs ASYNCAPI_FILE OPENAPI_FILE
// Exits 1 when either has a problem (an error or a warning), so that ApiSpecLintTest, and with
// it `mvn -B verify`, fails on a spec that its tools would refuse or frown at.
import { Parser, fromFile } from '@asyncapi/parser';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const [asyncapiFile, openapiFile] = process.argv.slice(2);
if (!asyncapiFile || !openapiFile) {
  console.error('usage: node lint.mjs ASYNCAPI_FILE OPENAPI_FILE');
  process.exit(2);
}

// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const SEVERITY = ['error', 'warning', 'info', 'hint'];

async function lintAsyncApi(file) {
  const { diagnostics } = await fromFile(new Parser(), file).parse();
  const problems = diagnostics.filter((d) => d.severity <= 1);
  for (const d of diagnostics) {
    console.log(`asyncapi ${SEVERITY[d.severity]} ${d.code} at ${d.path.join('.')}: ${d.message}`);
  }
  console.log(`asyncapi: ${file}: ${problems.length} problem(s)`);
  return problems.length === 0;
}

function lintOpenApi(file) {
  const redocly = path.join(here, 'node_modules', '.bin', 'redocly');
  const result = spawnSync(
    redocly,
    ['lint', file, '--config', path.join(here, 'redocly.yaml'), '--format', 'stylish'],
    {
      encoding: 'utf8',
      // No telemetry or update check: the tests reach no host but the registry.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    },
  );
  process.stdout.write(result.stdout ?? '');
  process.stdout.write(result.stderr ?? '');
  const warned = /\b[1-9]\d* warnings?\b/.test(`${result.stdout}${result.stderr}`);
  console.log(`openapi: ${file}: exit ${result.status}${warned ? ', with warnings' : ''}`);
  return result.status === 0 && !warned;
}

const asyncapiOk = await lintAsyncApi(asyncapiFile);
const openapiOk = lintOpenApi(openapiFile);
process.exit(asyncapiOk && openapiOk ? 0 : 1);
