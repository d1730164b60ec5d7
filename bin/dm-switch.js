#!/usr/bin/env node
// The `dm-switch` command (package.json "bin"): runs the TypeScript sources through tsx, so that
// `npx dm-switch …` works right after `npm ci`, with no build step, on any Node ≥ 20.
"use strict";
require("tsx/cjs/api").register();
const { main } = require("../components/cli/main.ts");

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (e) => {
        process.stderr.write(`dm-switch: unexpected failure: ${(e && e.stack) || e}\n`);
        process.exitCode = 1;
    },
);
