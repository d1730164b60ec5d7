/**
 * The provider text dm-switch's dynamic resources carry (components/providers/host.cjs), evaluated as
 * Pulumi's dynamic provider host evaluates it: a module compiled from the text, whose `handler()` returns
 * the provider. The real host runs it in tests/integration/pulumiCli.test.ts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import Module from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { providerText } from "../../components/providers/load";

type Provider = Required<import("@pulumi/pulumi").dynamic.ResourceProvider>;

/** What the host does with `__provider` (the require-from-string package Pulumi uses, in three lines). */
function evaluate(text: string): { handler(): Provider } {
    const m = new Module("", undefined) as Module & { _compile(code: string, filename: string): void };
    m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(process.cwd());
    m._compile(text, "");
    return m.exports as { handler(): Provider };
}

const markerModule = path.join(__dirname, "..", "fixtures", "pulumi-tiny", "markerProvider.ts");

test("the text names its module relative to the project folder and ends by exporting the handler", () => {
    const text = providerText(markerModule);
    assert.ok(
        text.endsWith(`exports.handler = () => exports.delegateTo("tests/fixtures/pulumi-tiny/markerProvider.ts");\n`),
        text.slice(-200),
    );
    assert.ok(!text.includes(process.cwd()), "no absolute path: the state must stay valid in another checkout");
});

test("the evaluated provider delegates to the module and turns a PartialStateError into the host's partial state", async () => {
    const text = providerText(markerModule);
    const provider = evaluate(text).handler();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dm-switch-provider-text-"));
    try {
        const file = path.join(dir, "marker.txt");
        const news = { path: file, content: "hello", __provider: text };
        assert.deepEqual(
            await provider.check({}, news),
            { inputs: news },
            "a module without check gets its inputs back",
        );
        const created = await provider.create(news);
        assert.equal(created.id, file);
        assert.equal(fs.readFileSync(file, "utf8"), "hello");

        const failing = { ...news, content: "fail-half-way" };
        await assert.rejects(
            provider.update(file, news, failing),
            (err: Error & { id?: string; properties?: Record<string, unknown>; reasons?: string[] }) => {
                assert.equal(err.message, "the update stopped half-way");
                assert.equal(err.id, file);
                assert.equal(err.properties?.content, "half");
                assert.equal(
                    err.properties?.__provider,
                    text,
                    "the host keeps partial state only with the provider text",
                );
                assert.deepEqual(err.reasons, ["the update stopped half-way"]);
                return true;
            },
        );
        assert.equal(fs.readFileSync(file, "utf8"), "half");

        await provider.delete(file, news);
        assert.equal(fs.existsSync(file), false);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
