/**
 * The hooks of a resource that moves a VIP (an `aws.route53.Record`, a `command.local.Command`…), for
 * DM's VIP procedure around it (see providers/hookedSwitch.ts: the VipIntent pauses and records, the
 * VipResume verifies and resumes; nothing is kept in memory between them):
 *
 * - beforeUpdate: refuses to move the VIP unless this run's VipIntent paused the tasks for that move, or
 *   the VIP already answers as the target (`pulumi up --target` on the hooked resource alone would
 *   otherwise move it under running tasks);
 * - onError (the SDK's error hook; the update failed): resumes the tasks where the VIP answers when that is
 *   safe — the old instance, or the target once the rule is checked there — or names them with the
 *   command that resumes them. Never retries. Either way the VipIntent's state still lists them, and the
 *   next `pulumi up` resumes what is still paused by dm-switch and pauses again if the VIP must move.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PendingSwitch } from "./providers/hookedSwitch";
import type { DmEndpointInputs, SwitchTimeouts } from "./model";
import type { VipIntentInputs } from "./providers/inputs";

/**
 * A hooked VIP as a program declares it: its VipIntent's inputs (the Vip's without a backend), with
 * dm-master and the password as Inputs, resolved when the hooks run (either may hold a secret).
 */
export type HookedVipInputs = Omit<VipIntentInputs, "dm" | "password"> &
    SwitchTimeouts & { dm: pulumi.Input<DmEndpointInputs>; password: pulumi.Input<string> };

export interface VipHooksArgs extends Omit<HookedVipInputs, "target"> {
    /** Prefix of the hooks' names (unique in the stack). */
    name: string;
    /** The instance a version of the hooked resource's inputs makes the VIP point at. */
    targetOf: (inputs: Record<string, unknown>) => string | undefined;
    /** The VipIntent's pending switch (its `pending` output). */
    pending: pulumi.Input<PendingSwitch | undefined>;
}

/**
 * Loaded when a hook runs, not by every preview: it brings the DM client, mysql2 and the executor. A typed
 * `require`, as every lazy load in components/ (synchronous, so a factory can use it too).
 */
const hookedSwitch = (): typeof import("./providers/hookedSwitch") => require("./providers/hookedSwitch");

/** Resolves an Input at run time (hooks run during `pulumi up`, when every value is known). */
function valueOf<T>(input: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(input).apply((v) => resolve(v as T)));
}

/** When this program started: a pending switch recorded since belongs to this run. */
const PROGRAM_START = Date.now();

/** The pending switch of this run, if the VipIntent recorded one (a record of an earlier run is stale). */
async function thisRunsPending(args: VipHooksArgs): Promise<PendingSwitch | undefined> {
    const p = await valueOf(args.pending);
    return p !== undefined && p !== null && Date.parse(p.at) >= PROGRAM_START ? p : undefined;
}

export function vipHooks(args: VipHooksArgs): pulumi.ResourceHookBinding {
    const inputs = async () => {
        const [dm, password] = await Promise.all([valueOf(args.dm), valueOf(args.password)]);
        const { name: _n, targetOf: _t, pending: _p, ...rest } = args;
        return { ...rest, dm, password };
    };

    const guard = new pulumi.ResourceHook(`${args.name}-dm-guard`, async (h) => {
        const to = args.targetOf(h.newInputs ?? {});
        const pending = await thisRunsPending(args);
        if (!to || pending?.to === to) {
            return;
        }
        const { answeringBackend } = hookedSwitch();
        const now = await answeringBackend(await inputs()).current();
        if (now !== to) {
            throw new Error(
                `${args.vipResource} would point the VIP at ${to}, which answers as ${now ?? "no instance"} now, but the tasks of DM source ${args.sourceId} were not paused for it in this run ` +
                    `(its VipIntent was not updated: 'pulumi up --target'?): run 'pulumi up' without --target`,
            );
        }
    });

    const onError = new pulumi.ErrorHook(`${args.name}-dm-on-error`, async (h) => {
        // An update moves the VIP, and so does the create of a replacement (e.g. a Record whose name changed).
        const pending = h.failedOperation !== "delete" ? await thisRunsPending(args) : undefined;
        if (pending === undefined || pending.tasks.length === 0) {
            return false;
        }
        const i = await inputs();
        const { hookedPorts, resumeCommands, resumeWhereVipPoints } = hookedSwitch();
        const hp = hookedPorts(i);
        // The provider's error on one line, shortened: a script's whole output can be in it.
        const first = (h.errors[0] ?? "its update failed").replace(/\s+/g, " ").replace(/[.\s]*$/, "");
        const why = first.length > 300 ? `${first.slice(0, 300)}…` : first;
        const named = (reason: string) =>
            pulumi.log.error(
                `dm-switch ${args.sourceId}: ${args.vipResource} did not finish moving the VIP to ${pending.to} (${why}); tasks ${pending.tasks.join(", ")} stay paused: ${reason}. ` +
                    `Its VipIntent records them: the next 'pulumi up' resumes them where the VIP points once the rule holds there, or resume by hand: ${resumeCommands(i, pending.tasks)}`,
            );
        try {
            const now = await hp.backend.current();
            // Safe: the instance DM read before the pause, or the target whose rule the intent checked (checked again).
            if (now === undefined || (now !== pending.from && now !== pending.to)) {
                named(`no instance of the replication set answers through the VIP ${i.address.host}:${i.address.port}`);
                return false;
            }
            const status = await hp.ports.status(pending.tasks);
            const ours = pending.tasks.filter(
                (t) => status.get(t)?.stage === "Paused" && status.get(t)?.syncerGtid === pending.gtidS[t],
            );
            const stages = new Map(pending.tasks.map((t) => [t, status.get(t)?.stage ?? ""] as const));
            await resumeWhereVipPoints(i, hp, now, pending.tasks, stages, ours);
            pulumi.log.warn(
                `dm-switch ${args.sourceId}: ${args.vipResource} failed (${why}); tasks ${ours.join(", ") || "none"} were resumed reading from ${now}, where the VIP answers`,
            );
        } catch (err) {
            named(err instanceof Error ? err.message.replace(/[.\s]*$/, "") : String(err));
        }
        return false;
    });

    return { beforeUpdate: [guard], onError: [onError] };
}
