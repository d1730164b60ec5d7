/**
 * The policy-stack fixture (tests/fixtures/policy-stack: one Vip) as the policy pack's live tests use it:
 * a temporary stack pointed at a sandbox's source, a pack config with a short catch-up wait, and
 * `pulumi <command> --policy-pack policies` whose output is kept for the password check at the end.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Flavor } from "../../components/mysql/types";
import type { Sandbox } from "../../sandbox";
import { createTempStack, PulumiResult, TempStack } from "../../tools/pulumiCli";

const PROJECT_DIR = path.join(__dirname, "..", "fixtures", "policy-stack");
const PACK = path.join(__dirname, "..", "..", "policies");
const NS = "dm-switch-policy-stack";

/** A temporary stack of the policy-stack fixture and what its runs printed. */
export class PolicyStack {
    /** Each run's output (and what the caller adds): none may hold the password. */
    readonly outputs: string[] = [];

    private constructor(
        readonly stack: TempStack,
        private readonly packConfig: string,
        private readonly sb: Sandbox,
        private readonly flavor: Flavor,
    ) {}

    /**
     * The stack's Vip switches `sb`'s source to its replica; the admin (whose password is a secret of the
     * stack) reads the instances, since the sandbox's source user cannot read replication status.
     */
    static async create(sb: Sandbox, flavor: Flavor): Promise<PolicyStack> {
        const stack = await createTempStack({ projectDir: PROJECT_DIR });
        // A short catch-up wait through the pack's config: a lagging replica is reported after 500 ms.
        const packConfig = path.join(stack.stateDir, "policy-config.json");
        fs.writeFileSync(packConfig, JSON.stringify({ "dm-gtid-containment": { catchUpTimeoutMs: 500 } }));
        const ps = new PolicyStack(stack, packConfig, sb, flavor);
        ps.configure(sb.replica.port);
        await stack.setConfig(`${NS}:password`, sb.admin.password, { secret: true });
        return ps;
    }

    /** Points the stack's target, `replica`, at `replicaPort`. */
    configure(replicaPort: number): void {
        const sb = this.sb;
        this.stack.writeConfig({
            [`${NS}:dm`]: { address: sb.dm.masterAddr, transport: "openapi" },
            [`${NS}:sourceId`]: sb.source.id,
            [`${NS}:flavor`]: this.flavor,
            [`${NS}:instances`]: {
                primary: { host: "127.0.0.1", port: sb.primary.port },
                replica: { host: "127.0.0.1", port: replicaPort },
            },
            [`${NS}:target`]: "replica",
            [`${NS}:address`]: { host: sb.vip.host, port: sb.vip.port },
            [`${NS}:user`]: sb.admin.user,
            [`${NS}:backend`]: {
                kind: "haproxy",
                socket: sb.vip.haproxySocket,
                backend: sb.vip.backend,
                servers: sb.vip.servers,
            },
        });
    }

    /** `pulumi <args> --policy-pack policies` with the pack's config; its output is kept. */
    async pulumi(args: string[]): Promise<PulumiResult> {
        const r = await this.stack.run([...args, "--policy-pack", PACK, "--policy-pack-config", this.packConfig]);
        this.outputs.push(r.output);
        console.log(`pulumi ${args[0]}: exit ${r.code} in ${r.ms} ms`);
        return r;
    }
}
