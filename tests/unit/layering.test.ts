/**
 * The layering docs/DEVELOPING.md states, enforced: every import, `export … from`, `require()` and
 * `import()` of a file under components/ (and of policies/*.ts) points to its own layer or a lower one.
 * An arrow up (a client importing the providers, the GTID algebra importing DM) makes the lower layer
 * depend on everything above it, so it fails here naming the file, the specifier and both layers.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Bottom (0) to top. A file belongs to the layer with the longest prefix matching its path: `dir/` is
 * everything under dir, `dir/*` the files directly in it, anything else one file. Layers of the same
 * rank are siblings: neither may import the other.
 */
const LAYERS: { name: string; rank: number; prefixes: string[] }[] = [
    // The shared vocabulary (no imports at all) and the one wait helper.
    { name: "model", rank: 0, prefixes: ["components/model.ts", "components/util/"] },
    { name: "gtid", rank: 1, prefixes: ["components/gtid/"] },
    // The I/O clients.
    { name: "dm", rank: 2, prefixes: ["components/dm/"] },
    { name: "mysql", rank: 2, prefixes: ["components/mysql/"] },
    { name: "vipBackends", rank: 2, prefixes: ["components/vipBackends/"] },
    // Plans are pure data: preflight prints the plan a switch would run.
    { name: "plans", rank: 3, prefixes: ["components/switch/plan.ts", "components/switch/options.ts"] },
    // The one decision, made by the pack and again by the executor's ports at apply time.
    { name: "preflight", rank: 4, prefixes: ["components/preflight/"] },
    { name: "switch", rank: 5, prefixes: ["components/switch/"] },
    // The two front ends beside the executor stand on preflight: a `dm-switch preflight` run and the
    // policy pack's process never load the executor, the providers or the Pulumi resources.
    { name: "cli", rank: 5, prefixes: ["components/cli/"] },
    { name: "policies", rank: 5, prefixes: ["policies/"] },
    { name: "providers", rank: 6, prefixes: ["components/providers/"] },
    // The Pulumi resources, the stack configuration and the public barrel.
    { name: "resources", rank: 7, prefixes: ["components/*"] },
];

type Layer = (typeof LAYERS)[number];

/** The layer of a path relative to the repository, by its longest matching prefix. */
export function layerOf(rel: string): Layer | undefined {
    let best: { layer: Layer; len: number } | undefined;
    for (const layer of LAYERS) {
        for (const p of layer.prefixes) {
            const match = p.endsWith("/*")
                ? path.posix.dirname(rel) === p.slice(0, -2)
                : p.endsWith("/")
                  ? rel.startsWith(p)
                  : rel === p;
            if (match && (!best || p.length > best.len)) {
                best = { layer, len: p.length };
            }
        }
    }
    return best?.layer;
}

/** Every module specifier of a source text: imports (type-only too), `export … from`, require(), import(). */
export function specifiersOf(text: string): string[] {
    return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** `spec` seen from `from` (both relative to the repository), as a repository-relative file path. */
function resolve(from: string, spec: string, exists: (rel: string) => boolean): string {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    return [base, `${base}.ts`, `${base}/index.ts`].find(exists) ?? base;
}

/**
 * The upward (or sideways) arrows among `files` (repository-relative path → text), one line each;
 * a file in no layer is reported too, so a new folder gets a place in LAYERS.
 */
export function violations(files: Map<string, string>): string[] {
    const exists = (rel: string) =>
        files.has(rel) || fs.statSync(path.join(ROOT, rel), { throwIfNoEntry: false })?.isFile() === true;
    const out: string[] = [];
    for (const [file, text] of files) {
        const own = layerOf(file);
        if (!own) {
            out.push(
                `${file}: in no layer; give it one in tests/unit/layering.test.ts (LAYERS) and docs/DEVELOPING.md`,
            );
            continue;
        }
        const specs = specifiersOf(text);
        if (own.name === "model" && file === "components/model.ts" && specs.length > 0) {
            out.push(`${file}: imports ${specs.map((s) => JSON.stringify(s)).join(", ")}; the model imports nothing`);
        }
        for (const spec of specs.filter((s) => s.startsWith("."))) {
            const target = resolve(file, spec, exists);
            const to = layerOf(target);
            if (!to) {
                out.push(`${file}: imports ${JSON.stringify(spec)} (${target}), which is in no layer`);
            } else if (to.name !== own.name && to.rank >= own.rank) {
                out.push(
                    `${file}: imports ${JSON.stringify(spec)} (${to.name}, rank ${to.rank}) from ${own.name} (rank ${own.rank}): ` +
                        (to.rank === own.rank ? "sibling layers may not import each other" : "arrows point down only"),
                );
            }
        }
    }
    return out;
}

/** components/**\/*.ts and policies/*.ts, repository-relative. */
function sources(): Map<string, string> {
    const out = new Map<string, string>();
    const walk = (dir: string, deep: boolean) => {
        for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
            const rel = `${dir}/${e.name}`;
            if (e.isDirectory() && deep && e.name !== "node_modules") {
                walk(rel, deep);
            } else if (e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
                out.set(rel, fs.readFileSync(path.join(ROOT, rel), "utf8"));
            }
        }
    };
    walk("components", true);
    walk("policies", false);
    return out;
}

test("every import under components/ and policies/ points down the layering", () => {
    const files = sources();
    // The scan reads the tree it means to: the layers' own folders are all there.
    for (const f of [
        "components/model.ts",
        "components/gtid/index.ts",
        "components/dm/index.ts",
        "policies/index.ts",
    ]) {
        assert.ok(files.has(f), `${f} not found by the scan`);
    }
    assert.deepEqual(violations(files), []);
});

test("the check sees every kind of import and names the file, the specifier and both layers", () => {
    const files = new Map([
        ["components/gtid/x.ts", `import type { Flavor } from "../model";\nimport { probe } from "../mysql";\n`],
        ["components/dm/x.ts", `export { a } from "../providers/inputs";\n// import { b } from "../switch/execute";\n`],
        ["components/mysql/x.ts", `const v = () => require("../dm");\nconst w = import("../gtid");\n`],
        ["components/preflight/x.ts", `import { formatPlan } from "../switch/plan";\nimport "../switch/execute";\n`],
        ["components/model.ts", `import * as fs from "node:fs";\n`],
        ["components/cli/x.ts", `import type { DmEndpointInputs } from "../providers/inputs";\n`],
        ["policies/x.ts", `import { preflight } from "../components/preflight";\nimport "../components/cli/main";\n`],
        ["components/elsewhere/x.ts", ``],
    ]);
    assert.deepEqual(violations(files), [
        'components/gtid/x.ts: imports "../mysql" (mysql, rank 2) from gtid (rank 1): arrows point down only',
        'components/dm/x.ts: imports "../providers/inputs" (providers, rank 6) from dm (rank 2): arrows point down only',
        'components/mysql/x.ts: imports "../dm" (dm, rank 2) from mysql (rank 2): sibling layers may not import each other',
        'components/preflight/x.ts: imports "../switch/execute" (switch, rank 5) from preflight (rank 4): arrows point down only',
        'components/model.ts: imports "node:fs"; the model imports nothing',
        'components/cli/x.ts: imports "../providers/inputs" (providers, rank 6) from cli (rank 5): arrows point down only',
        'policies/x.ts: imports "../components/cli/main" (cli, rank 5) from policies (rank 5): sibling layers may not import each other',
        "components/elsewhere/x.ts: in no layer; give it one in tests/unit/layering.test.ts (LAYERS) and docs/DEVELOPING.md",
    ]);
});

test("every file has exactly the layer docs/DEVELOPING.md gives its folder", () => {
    const of = (rel: string) => layerOf(rel)?.name;
    assert.equal(of("components/model.ts"), "model");
    assert.equal(of("components/util/poll.ts"), "model");
    assert.equal(of("components/switch/plan.ts"), "plans");
    assert.equal(of("components/switch/execute.ts"), "switch");
    assert.equal(of("components/source.ts"), "resources");
    assert.equal(of("components/cli/main.ts"), "cli");
    assert.equal(of("policies/run.ts"), "policies");
    assert.equal(of("components/elsewhere/x.ts"), undefined);
    assert.equal(of("tools/env.ts"), undefined);
});
