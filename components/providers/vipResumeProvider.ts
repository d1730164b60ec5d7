/**
 * The VipResume resource's provider: the second half of a hooked VIP's switch (./hookedSwitch.ts). It is
 * declared after the hooked resource (`dependsOn`), and its `pending` input is the VipIntent's pending
 * switch, so the engine updates it in every run that paused tasks for a move — whether or not the hooked
 * resource itself changed in that run (an afterUpdate hook would run only when it did, and a pause the
 * intent recorded could then outlive the run). The update verifies through the VIP that the target
 * answers, resumes the tasks, waits until Running and confirms they read from the target.
 */
import type * as pulumi from "@pulumi/pulumi";
import { leftPaused } from "./common";
import { finishSwitch, hookedPorts, HookedSwitchInputs, PendingSwitch, resumeCommands } from "./hookedSwitch";
import type { LastSwitch } from "./inputs";

export interface ResumeInputs extends HookedSwitchInputs {
    /** The VipIntent's pending switch; undefined when none is. */
    pending?: PendingSwitch;
}

export interface ResumeOutputs {
    sourceId: string;
    vipResource: string;
    /** The id of the last pending switch this resource finished. */
    finished?: string;
    /** When and where it switched. */
    lastSwitch?: Pick<LastSwitch, "from" | "to" | "gtidS" | "at">;
}

async function finish(news: ResumeInputs, olds: Partial<ResumeOutputs>): Promise<ResumeOutputs> {
    const base = {
        sourceId: news.sourceId,
        vipResource: news.vipResource,
        finished: olds.finished,
        lastSwitch: olds.lastSwitch,
    };
    const p = news.pending;
    if (p === undefined || p.id === olds.finished) {
        return base;
    }
    try {
        await finishSwitch(news, hookedPorts(news), p);
    } catch (err) {
        const paused = leftPaused(err);
        const how =
            paused !== undefined && paused.length > 0
                ? ` The VipIntent of ${news.vipResource} records ${paused.join(", ")}: the next 'pulumi up' resumes them where the VIP points once the rule holds there, or ${resumeCommands(news, paused)}.`
                : "";
        throw new Error(
            `${news.vipResource} was to point the VIP at ${p.to}: ${err instanceof Error ? err.message : String(err)}${how}`,
        );
    }
    return {
        ...base,
        finished: p.id,
        lastSwitch: {
            ...(p.from !== undefined ? { from: p.from } : {}),
            to: p.to,
            gtidS: p.gtidS,
            at: new Date().toISOString(),
        },
    };
}

/** A pending switch as the engine hands it over: a record, or a value not known yet (preview). */
const pendingId = (p: unknown): string | undefined =>
    p !== null && typeof p === "object" && typeof (p as PendingSwitch).id === "string"
        ? (p as PendingSwitch).id
        : p === undefined
          ? undefined
          : String(p);

export const provider = {
    async diff(_id: string, olds: ResumeOutputs, news: ResumeInputs): Promise<pulumi.dynamic.DiffResult> {
        const id = pendingId(news.pending);
        return { changes: id !== undefined && id !== olds.finished };
    },
    async create(inputs: ResumeInputs) {
        return { id: `${inputs.sourceId}-resume`, outs: await finish(inputs, {}) };
    },
    async update(_id: string, olds: ResumeOutputs, news: ResumeInputs) {
        return { outs: await finish(news, olds) };
    },
} satisfies pulumi.dynamic.ResourceProvider<ResumeInputs, ResumeOutputs>;
