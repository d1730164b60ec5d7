// The pack is TypeScript. Pulumi would load it with ts-node and a full type check on every preview
// (≈ 15 s here); tsx compiles it as it loads instead. Types are checked by `npm run typecheck`.
require("tsx/cjs/api").register();
require("./index.ts");
