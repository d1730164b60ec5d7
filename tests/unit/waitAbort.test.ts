import assert from "node:assert/strict";
import { test } from "node:test";
import { DmClient, DmError, waitForStage, WaitTimeoutError } from "../../components/dm";
import { AwsWaitTimeoutError, pollUntil } from "../../components/vipBackends/aws";
import { runningSubtask } from "../support/dmFixtures";

/** A DM client whose only subtask `t0` on `src` stays at `stage`; counts the status reads. */
function stuckAt(stage: string): { client: DmClient; reads: () => number } {
    let reads = 0;
    const status = runningSubtask("t0", "src", {
        worker: "w",
        stage: stage as never,
        rawStage: stage,
        syncerBinlogGtid: "",
    });
    const client = {
        taskStatus: async () => {
            reads++;
            return [status];
        },
    } as unknown as DmClient;
    return { client, reads: () => reads };
}

test("a DM stage wait aborted while it waits ends at once with a DmError saying so, not a timeout", async () => {
    const { client, reads } = stuckAt("Pausing");
    const ac = new AbortController();
    setImmediate(() => ac.abort());
    await assert.rejects(
        waitForStage(client, ["t0"], "src", ["Paused"], { intervalMs: 60_000, timeoutMs: 120_000, signal: ac.signal }),
        (e: unknown) => {
            assert.ok(e instanceof DmError);
            assert.ok(!(e instanceof WaitTimeoutError));
            assert.equal(e.message, "waiting for stage Paused of t0 on source src was aborted.");
            return true;
        },
    );
    assert.equal(reads(), 1);
});

test("a DM stage wait on an already aborted signal reads nothing", async () => {
    const { client, reads } = stuckAt("Paused");
    await assert.rejects(waitForStage(client, ["t0"], "src", ["Paused"], { signal: AbortSignal.abort() }), {
        name: "DmError",
        message: "waiting for stage Paused of t0 on source src was aborted.",
    });
    assert.equal(reads(), 0);
});

const what = { description: "Route53 A record x.db.internal", awaited: "change C1 INSYNC", show: (s: string) => s };
const hint = "Check the AWS console or CLI, raise backend.timeoutMs if AWS is slow, then retry.";

test("an AWS wait aborted while it waits ends at once, saying so and quoting the last read", async () => {
    const ac = new AbortController();
    setImmediate(() => ac.abort());
    let reads = 0;
    const read = async (): Promise<string> => (++reads === 1 ? "PENDING" : "STILL PENDING");
    await assert.rejects(
        pollUntil(what, read, (s) => s === "INSYNC", { intervalMs: 60_000, timeoutMs: 120_000, signal: ac.signal }),
        (e: unknown) => {
            assert.ok(e instanceof AwsWaitTimeoutError);
            assert.equal(e.lastSeen, "PENDING");
            assert.equal(
                e.message,
                `Route53 A record x.db.internal: change C1 INSYNC: the wait was aborted; last seen: PENDING. ${hint}`,
            );
            return true;
        },
    );
    assert.equal(reads, 1);
});

test("an AWS wait on an already aborted signal still reads once: done is returned, else the error quotes it", async () => {
    assert.equal(
        await pollUntil(
            what,
            async () => "INSYNC",
            (s) => s === "INSYNC",
            { intervalMs: 1, timeoutMs: 1000, signal: AbortSignal.abort() },
        ),
        "INSYNC",
    );
    await assert.rejects(
        pollUntil(
            what,
            async () => "PENDING",
            (s) => s === "INSYNC",
            { intervalMs: 1, timeoutMs: 1000, signal: AbortSignal.abort() },
        ),
        {
            name: "AwsWaitTimeoutError",
            message: `Route53 A record x.db.internal: change C1 INSYNC: the wait was aborted; last seen: PENDING. ${hint}`,
        },
    );
});
