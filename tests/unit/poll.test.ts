import assert from "node:assert/strict";
import { test } from "node:test";
import { pollUntil, sleep } from "../../components/util/poll";

test("pollUntil returns the first answer that is not undefined, after as many attempts as it took", async () => {
    let n = 0;
    const got = await pollUntil(() => (++n === 3 ? `third` : undefined), { intervalMs: 1, timeoutMs: 5000 });
    assert.equal(got, "third");
    assert.equal(n, 3);
});

test("pollUntil keeps a falsy answer other than undefined (0, false, empty text)", async () => {
    assert.equal(await pollUntil(() => 0, { intervalMs: 1, timeoutMs: 10 }), 0);
    assert.equal(await pollUntil(() => false, { intervalMs: 1, timeoutMs: 10 }), false);
    assert.equal(await pollUntil(async () => "", { intervalMs: 1, timeoutMs: 10 }), "");
});

test("pollUntil returns undefined when time runs out, having asked at least once and again at the deadline", async () => {
    let n = 0;
    const got = await pollUntil(() => void n++, { intervalMs: 5, timeoutMs: 30 });
    assert.equal(got, undefined);
    assert.ok(n >= 2, `asked ${n} times`);
});

test("pollUntil with timeoutMs 0 asks exactly once", async () => {
    let n = 0;
    assert.equal(await pollUntil(() => void n++, { intervalMs: 1000, timeoutMs: 0 }), undefined);
    assert.equal(n, 1);
});

test("pollUntil ends early when the signal aborts, without another attempt", async () => {
    const ac = new AbortController();
    let n = 0;
    setTimeout(() => ac.abort(), 20);
    const got = await pollUntil(() => void n++, { intervalMs: 60_000, timeoutMs: 120_000, signal: ac.signal });
    assert.equal(got, undefined);
    assert.equal(n, 1);
});

test("pollUntil passes on an attempt's error", async () => {
    await assert.rejects(
        pollUntil(
            () => {
                throw new Error("read failed");
            },
            { intervalMs: 1, timeoutMs: 100 },
        ),
        /^Error: read failed$/,
    );
});

test("sleep resolves at once on an aborted signal", async () => {
    const ac = new AbortController();
    ac.abort();
    let resolved = false;
    await Promise.race([sleep(60_000, ac.signal).then(() => (resolved = true)), sleep(50)]);
    assert.equal(resolved, true);
});
