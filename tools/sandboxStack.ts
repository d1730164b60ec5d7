/**
 * A real Pulumi stack of this project (index.ts) pointed at a sandbox: the configuration a user would
 * write in Pulumi.<stack>.yaml, with the passwords set as secrets through stdin. Used by the
 * integration tests, the demo and the benchmarks.
 */
import * as path from "node:path";
import type { EniBackendInputs, Route53BackendInputs } from "../components/providers/inputs";
import type { Sandbox } from "../sandbox";
import { createTempStack, TempStack } from "./pulumiCli";

export const PROJECT_DIR = path.resolve(__dirname, "..");

export interface SandboxSourceOptions {
    /** "vip": HAProxy moves; "address": the DM source is re-created at the instance's address. */
    mode: "vip" | "address";
    reads: "primary" | "replica";
    /** @default the tasks of the source as DM reports them */
    tasks?: string[];
    catchUpTimeoutMs?: number;
    stageTimeoutMs?: number;
    advanceTimeoutMs?: number;
    /** The source's relay log (the sandbox must have been started with `relay: true`). @default undefined (off) */
    enableRelay?: boolean;
    transport?: "openapi" | "dmctl";
    /** VIP mode: dm-switch's Vip resource moves HAProxy, or a command.local.Command hooked by dm-switch. @default "vip" */
    mover?: "vip" | "command";
    /**
     * VIP mode, mover "vip": the Vip moves this Route53 record or ENI secondary IP (e.g. on moto) instead
     * of HAProxy; DM still reads through HAProxy's address. @default undefined (HAProxy)
     */
    aws?: { route53: Omit<Route53BackendInputs, "kind"> } | { eni: Omit<EniBackendInputs, "kind"> };
    /** The Vip's `vip.verify`. @default undefined ("connect") */
    verify?: "connect" | "backend";
    /** The source's user (its password is `dm-switch:passwords.<id>`). @default the sandbox's source user */
    user?: string;
    /**
     * Mover "command": the site script misbehaves when it moves the VIP to `target` — exits 1 before or
     * after pointing HAProxy there, or "succeeds" leaving no server enabled. @default undefined (it works)
     */
    scriptFault?: ScriptFault;
}

/** A site script's failure for the hooked VIP's tests. */
export interface ScriptFault {
    target: "primary" | "replica";
    kind: "exit-before-move" | "exit-after-move" | "no-server";
}

/** The site script of the "command" mover: points HAProxy at server $DM_SWITCH_VALUE through its runtime API. */
export function haproxyScript(sb: Sandbox, fault?: ScriptFault): string {
    const b = sb.vip.backend;
    const others = Object.values(sb.vip.servers)
        .map(
            (s) =>
                `[ "${s}" = "$DM_SWITCH_VALUE" ] || cmds="$cmds; disable server ${b}/${s}; shutdown sessions server ${b}/${s}"`,
        )
        .join("\n");
    const faulty = fault && `[ "$DM_SWITCH_TARGET" = "${fault.target}" ]`;
    const lines = [`cmds="enable server ${b}/$DM_SWITCH_VALUE"`, others];
    if (fault?.kind === "exit-before-move") {
        lines.unshift(`if ${faulty}; then echo "site script: cannot reach the load balancer" >&2; exit 1; fi`);
    }
    if (fault?.kind === "no-server") {
        const all = Object.values(sb.vip.servers).map(
            (s) => `disable server ${b}/${s}; shutdown sessions server ${b}/${s}`,
        );
        lines.push(`if ${faulty}; then cmds="${all.join("; ")}"; fi`);
    }
    lines.push(`echo "$cmds" | socat -t 2 stdio UNIX-CONNECT:${sb.vip.haproxySocket}`);
    if (fault?.kind === "exit-after-move") {
        lines.push(`if ${faulty}; then echo "site script: the load balancer did not confirm" >&2; exit 1; fi`);
    }
    return lines.join("\n");
}

/** The stack configuration (plain part) for the sandbox's source. */
export function sandboxConfig(sb: Sandbox, o: SandboxSourceOptions): Record<string, unknown> {
    const at = (i: { host: string; port: number }) => ({ host: i.host, port: i.port });
    return {
        "dm-switch:dm": { address: sb.dm.masterAddr, transport: o.transport ?? "openapi", dmctlPath: sb.dm.dmctlPath },
        "dm-switch:instances": { primary: at(sb.primary), replica: at(sb.replica) },
        "dm-switch:sources": [
            {
                id: sb.source.id,
                flavor: sb.source.flavor,
                user: o.user ?? sb.source.user,
                mode: o.mode,
                reads: o.reads,
                ...(o.tasks ? { tasks: o.tasks } : {}),
                ...(o.catchUpTimeoutMs !== undefined ? { catchUpTimeoutMs: o.catchUpTimeoutMs } : {}),
                ...(o.stageTimeoutMs !== undefined ? { stageTimeoutMs: o.stageTimeoutMs } : {}),
                ...(o.advanceTimeoutMs !== undefined ? { advanceTimeoutMs: o.advanceTimeoutMs } : {}),
                ...(o.enableRelay !== undefined ? { enableRelay: o.enableRelay } : {}),
                ...(o.mode === "vip"
                    ? {
                          vip: {
                              address: { host: sb.vip.host, port: sb.vip.port },
                              ...(o.mover === "command"
                                  ? {
                                        command: {
                                            script: haproxyScript(sb, o.scriptFault),
                                            values: { ...sb.vip.servers },
                                        },
                                    }
                                  : (o.aws ?? {
                                        haproxy: {
                                            socket: sb.vip.haproxySocket,
                                            backend: sb.vip.backend,
                                            servers: sb.vip.servers,
                                        },
                                    })),
                              ...(o.verify ? { verify: o.verify } : {}),
                          },
                      }
                    : {}),
            },
        ],
    };
}

export interface SandboxStack extends TempStack {
    /** Rewrites the source's configuration (e.g. `reads`), as a user edits the stack file. */
    configure(o: SandboxSourceOptions): void;
}

/** Options of `createSandboxStack`. */
export interface SandboxStackOptions {
    /** Called with each chunk of pulumi's output as it arrives. @default undefined */
    onOutput?: (chunk: string) => void;
    /** Extra environment of every pulumi command, e.g. moto's fake AWS credentials. @default undefined */
    env?: NodeJS.ProcessEnv;
}

/** A temp stack of this project on the sandbox, its secrets set. */
export async function createSandboxStack(
    sb: Sandbox,
    o: SandboxSourceOptions,
    opts: SandboxStackOptions = {},
): Promise<SandboxStack> {
    const stack = await createTempStack({ projectDir: PROJECT_DIR, onOutput: opts.onOutput, env: opts.env });
    try {
        stack.writeConfig(sandboxConfig(sb, o));
        await stack.setConfig(`dm-switch:passwords.${sb.source.id}`, sb.source.password, { secret: true, path: true });
        await stack.setConfig("dm-switch:downstreamPassword", sb.admin.password, { secret: true });
    } catch (err) {
        await stack.dispose();
        throw err;
    }
    return { ...stack, configure: (next) => stack.writeConfig(sandboxConfig(sb, next)) };
}
