#!/usr/bin/env node
// Parses every .tf file under a directory with HashiCorp's HCL parser (@cdktf/hcl2json, the Go
// parser compiled to WebAssembly) in one process, and prints
// {"files": {"<relative path>": <JSON of the file>}, "errors": {"<relative path>": "<message>"}}.
// Usage: node tools/hcl2json.js DIR
//        node tools/hcl2json.js --serve   (one DIR per stdin line, one JSON line per answer; the
//                                          WebAssembly parser warms up once for many trees)
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require('@cdktf/hcl2json');

function tfFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : tfFiles(full);
      return entry.name.endsWith('.tf') ? [full] : [];
    })
    .sort();
}

async function parseTree(root) {
  const result = { files: {}, errors: {} };
  for (const file of tfFiles(root)) {
    const name = path.relative(root, file).split(path.sep).join('/');
    try {
      result.files[name] = await parse(name, fs.readFileSync(file, 'utf8'));
    } catch (error) {
      result.errors[name] = String(error && error.message ? error.message : error);
    }
  }
  return result;
}

async function serve() {
  const lines = require('readline').createInterface({ input: process.stdin });
  for await (const line of lines) {
    const dir = line.trim();
    if (dir === '') continue;
    let answer;
    try {
      answer = await parseTree(dir);
    } catch (error) {
      answer = { files: {}, errors: { '.': String(error && error.message ? error.message : error) } };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
}

async function main() {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write('usage: hcl2json.js DIR | --serve\n');
    process.exit(2);
  }
  if (arg === '--serve') {
    await serve();
  } else {
    process.stdout.write(JSON.stringify(await parseTree(arg)));
  }
}

main().catch((error) => {
  process.stderr.write(`hcl2json: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
