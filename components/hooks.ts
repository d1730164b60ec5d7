/**
 * DM's VIP procedure around a VIP that the stack already manages as another resource (an
 * `aws.route53.Record`, an ENI attachment, a `command.local.Command` running keepalived or `ip addr`):
 * put the returned hooks in that resource's `hooks` option.
 *
 * - beforeUpdate: when the target changes, pause every task of the source, wait until Paused, read
 *   gtid-S and enforce the rule against the new target (any failure resumes the tasks and fails the
 *   update before the VIP moves);
 * - afterUpdate: verify through the VIP that the target answers, resume the tasks, wait Running.
 *
 * Limit: hooks run in `pulumi up` only, and the engine has already updated the resource when
 * afterUpdate runs, so an afterUpdate failure leaves the VIP moved. The error then lists the paused
 * tasks with the command that resumes them (`dmctl … resume-task <task> -s <source>`); since the
 * resource has no diff left, the next `pulumi up` does not run the hooks again: resume by that command,
 * or use the Vip resource, which records paused tasks in its state and resumes them on the next run.
 */
import * as pulumi from "@pulumi/pulumi";
import { AddressInputs, DmEndpointInputs, Flavor } from "./providers/inputs";

export interface VipHooksArgs {
    /** Prefix of the hooks' names (unique in the stack). */
    name: string;
    /** dm-master; resolved when the hooks run (it may hold a TLS key, a secret). */
    dm: pulumi.Input<DmEndpointInputs>;
    sourceId: string;
    flavor: Flavor;
    instances: Record<string, AddressInputs>;
    /** The VIP's address as DM reaches it. */
    address: AddressInputs;
    user: string;
    password: pulumi.Input<string>;
    /** The instance a version of the hooked resource's inputs makes the VIP point at. */
    targetOf: (inputs: Record<string, unknown>) => string | undefined;
    tasks?: string[];
    stageTimeoutMs?: number;
    catchUpTimeoutMs?: number;
    advanceTimeoutMs?: number;
}

/** Resolves an Input at run time (hooks run during `pulumi up`, when every value is known). */
function valueOf<T>(input: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(input).apply((v) => resolve(v as T)));
}

export function vipHooks(args: VipHooksArgs): pulumi.ResourceHookBinding {
    // A switch begun by beforeUpdate, finished by afterUpdate of the same resource.
    const pending = new Map<string, { plan: import("./switch/plan").SwitchPlan; ports: import("./switch/execute").SwitchPorts; first: import("./switch/execute").SwitchReport }>();
    const timeouts = { stageTimeoutMs: args.stageTimeoutMs, catchUpTimeoutMs: args.catchUpTimeoutMs, advanceTimeoutMs: args.advanceTimeoutMs };

    const before = new pulumi.ResourceHook(`${args.name}-dm-pause`, async (h) => {
        const from = args.targetOf(h.oldInputs ?? {});
        const to = args.targetOf(h.newInputs ?? {});
        if (!to || from === to) {
            return;
        }
        const { switchPorts } = await import("./providers/ports");
        const { createDmClient } = await import("./dm");
        const { planVipSwitch, formatPlan } = await import("./switch/plan");
        const { executeSwitch } = await import("./switch/execute");
        const dmEndpoint = await valueOf(args.dm);
        const dm = createDmClient(dmEndpoint);
        const log = (line: string) => pulumi.log.info(`dm-switch ${args.sourceId}: ${line}`);
        const password = await valueOf(args.password);
        const ports = switchPorts({ dm, sourceId: args.sourceId, flavor: args.flavor, instances: args.instances, user: args.user, password, log });
        const names = args.tasks ?? (await dm.tasksOfSource(args.sourceId));
        const status = await ports.status(names);
        const plan = planVipSwitch({ sourceId: args.sourceId, dmAddress: dmEndpoint.address, tasks: names.map((name) => ({ name, stage: status.get(name)?.stage ?? "" })), from, to });
        formatPlan(plan).forEach(log);
        const moveAt = plan.steps.findIndex((s) => s.kind === "move-vip");
        const first = await executeSwitch({ ...plan, steps: plan.steps.slice(0, moveAt) }, ports, timeouts);
        // The engine moves the VIP (updates the resource) next; afterUpdate verifies and resumes.
        const { endpointOf } = await import("./providers/ports");
        const { probe } = await import("./mysql");
        ports.vip = {
            current: async () => to,
            moveTo: async () => undefined,
            async verify(target) {
                const [through, direct] = await Promise.all([probe(endpointOf(args.address, args.user, password)), probe(endpointOf(args.instances[target], args.user, password))]);
                if (through.serverId !== direct.serverId) {
                    throw new Error(`the VIP ${args.address.host}:${args.address.port} is answered by server_id ${through.serverId}, not by ${target} (server_id ${direct.serverId})`);
                }
            },
        };
        pending.set(h.urn, { plan: { ...plan, steps: plan.steps.slice(moveAt + 1) }, ports, first });
    });

    const after = new pulumi.ResourceHook(`${args.name}-dm-resume`, async (h) => {
        const p = pending.get(h.urn);
        if (!p) {
            return;
        }
        pending.delete(h.urn);
        const { executeSwitch, warnWrittenOnTarget } = await import("./switch/execute");
        const report = await executeSwitch(p.plan, p.ports, {
            ...timeouts,
            continueAfterMove: true,
            gtidS: p.first.gtidS,
            dumpIoBytes: p.first.dumpIoBytes,
            executedAtCheck: p.first.executedAtCheck,
        });
        p.ports.log(`switched to ${p.plan.to}; resumed ${p.plan.switched.join(", ") || "no task"} (${report.steps.length} steps)`);
        warnWrittenOnTarget(report, (w) => pulumi.log.warn(`dm-switch ${args.sourceId}: ${w}`));
    });

    return { beforeUpdate: [before], afterUpdate: [after] };
}
