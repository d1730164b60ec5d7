/**
 * Switches of one dm-master go one at a time in a process (components/switch/windows.ts): a second
 * switch's first pause comes after the first switch has ended; another dm-master's switch does
 * not wait; a failed switch ends its window (after its recovery) so the next one goes on.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { executeSwitch } from "../../components/switch/execute";
import { opts, plan, World } from "../support/switchWorld";

/** Two worlds whose pauses and moves write into one list, in the order they happen. */
function twoWorlds(events: string[], first: ConstructorParameters<typeof World>[1] = {}) {
    const mark = (name: string) => ({
        beforePause: () => events.push(`${name} pause`),
        afterMove: () => events.push(`${name} move`),
    });
    return [
        new World({ t1: "Running", t2: "Running" }, { ...mark("1"), ...first }),
        new World({ t1: "Running", t2: "Running" }, mark("2")),
    ];
}

test("two switches of one dm-master: the second pauses only after the first's tasks run again", async () => {
    const events: string[] = [];
    const [w1, w2] = twoWorlds(events);
    await Promise.all([executeSwitch(plan(w1), w1, opts), executeSwitch(plan(w2), w2, opts)]);
    assert.deepEqual(events, ["1 pause", "1 move", "2 pause", "2 move"]);
    assert.equal(w1.vipAt, "b");
    assert.equal(w2.vipAt, "b");
    assert.ok(
        w2.lines.some((l) => /^waited \d+ ms for other switches of this dm-master to finish$/.test(l)),
        w2.lines.join("\n"),
    );
    assert.ok(!w1.lines.some((l) => l.startsWith("waited ")), "the first switch did not wait");
});

test("switches of different dm-masters do not wait for each other", async () => {
    const events: string[] = [];
    const [w1, w2] = twoWorlds(events);
    await Promise.all([
        executeSwitch(plan(w1, { dmAddress: "dm-a:8261" }), w1, opts),
        executeSwitch(plan(w2, { dmAddress: "dm-b:8261" }), w2, opts),
    ]);
    assert.deepEqual(events.slice(0, 2).sort(), ["1 pause", "2 pause"]);
});

test("a switch that fails ends its window after its recovery: the next switch of the dm-master goes on", async () => {
    const events: string[] = [];
    const [w1, w2] = twoWorlds(events, { failVerify: true });
    const [r1, r2] = await Promise.allSettled([executeSwitch(plan(w1), w1, opts), executeSwitch(plan(w2), w2, opts)]);
    assert.equal(r1.status, "rejected");
    assert.equal(r2.status, "fulfilled");
    // The first switch's recovery (the VIP moved back and verified, the tasks resumed) came before the second's pause.
    assert.deepEqual(w1.calls.slice(-3), ["move a", "verify a", "resume t1,t2"]);
    assert.deepEqual(events, ["1 pause", "1 move", "1 move", "2 pause", "2 move"]);
    assert.equal(w2.vipAt, "b");
});
