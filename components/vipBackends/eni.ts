/**
 * A VIP made by a secondary private IP on one of the instances' network interfaces (ENIs): the instance
 * the VIP points at is the one whose ENI holds the IP. A move assigns the IP to the target's ENI with
 * reassignment allowed (EC2 takes it off the other ENI in the same call), then reads until EC2 shows it
 * on the target's ENI only, unassigning it from an ENI that still shows it.
 *
 * EC2 only routes the address; the target host must also bring it up on its interface (ec2-net-utils
 * does so on Amazon Linux; elsewhere a hook or the host's own agent). See docs/aws.md.
 */
import {
    AssignPrivateIpAddressesCommand,
    DescribeNetworkInterfacesCommand,
    DescribeSubnetsCommand,
    EC2Client,
    NetworkInterface,
    UnassignPrivateIpAddressesCommand,
} from "@aws-sdk/client-ec2";
import { AwsVipBackend, awsErrorText, checkAwsAccess, pollUntil, throwIfInvalid } from "./aws";
import { AWS_VIP_DEFAULTS, checkEniInputs, EniBackendInputs } from "./awsInputs";
import { VipSplitError } from "./types";

const D = AWS_VIP_DEFAULTS.eni;

/** How long the last move took, in milliseconds (for logs and benchmarks). */
export interface EniMoveTimings {
    /** AssignPrivateIpAddresses answered. */
    assignMs: number;
    /** DescribeNetworkInterfaces showed the IP on the target's ENI only, counted from the start of the move. */
    attachedMs: number;
}

/** IPv4 `ip` inside `cidr` ("10.0.1.0/24"). */
function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const n = (a: string) => a.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const size = 2 ** (32 - Number(bits));
    return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

/** An ENI secondary private IP as the VIP; built by `awsVipBackend` from a Vip's `backend` input. */
export class EniVip implements AwsVipBackend {
    readonly description: string;
    /** Filled by each `moveTo` that assigned the IP. */
    lastMove?: EniMoveTimings;
    private readonly client: EC2Client;
    private readonly byEni: Map<string, string>;

    constructor(private readonly b: EniBackendInputs) {
        throwIfInvalid(checkEniInputs(b));
        this.description = `ENI secondary IP ${b.privateIp}`;
        this.byEni = new Map(Object.entries(b.enis).map(([instance, eni]) => [eni, instance]));
        this.client = new EC2Client({ region: b.region, endpoint: b.endpoint });
    }

    private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
        try {
            return await fn();
        } catch (err) {
            throw new Error(`${this.description}: ${what} failed: ${awsErrorText(err)}`);
        }
    }

    /** The instances' ENIs that exist. A filter, not NetworkInterfaceIds, so one missing ENI does not hide the others. */
    private async describe(filters: { Name: string; Values: string[] }[]): Promise<NetworkInterface[]> {
        const out: NetworkInterface[] = [];
        let token: string | undefined;
        do {
            const page = await this.call("DescribeNetworkInterfaces", () =>
                this.client.send(new DescribeNetworkInterfacesCommand({ Filters: filters, NextToken: token })),
            );
            out.push(...(page.NetworkInterfaces ?? []));
            token = page.NextToken;
        } while (token);
        return out;
    }

    private enis(): Promise<NetworkInterface[]> {
        return this.describe([{ Name: "network-interface-id", Values: [...this.byEni.keys()] }]);
    }

    private holds(eni: NetworkInterface): boolean {
        return (eni.PrivateIpAddresses ?? []).some((a) => a.PrivateIpAddress === this.b.privateIp);
    }

    /**
     * Checks, before any DM task is paused, that every ENI exists, all are in one subnet (a secondary IP
     * cannot leave its subnet), the IP is inside that subnet and is no ENI's primary address.
     */
    async preflight(): Promise<void> {
        await checkAwsAccess(this.client, "eni", this.description);
        const found = await this.enis();
        const ids = new Set(found.map((e) => e.NetworkInterfaceId));
        const missing = Object.entries(this.b.enis).filter(([, eni]) => !ids.has(eni));
        if (missing.length > 0) {
            throw new Error(
                missing
                    .map(
                        ([instance, eni]) =>
                            `backend.enis.${instance}: ENI ${eni} does not exist (or these credentials cannot see it)`,
                    )
                    .join("; ") +
                    `; set it to the ENI id of that instance's host (aws ec2 describe-network-interfaces).`,
            );
        }
        const first = found[0];
        const other = found.find((e) => e.SubnetId !== first.SubnetId);
        if (other) {
            const name = (e: NetworkInterface) => `${this.byEni.get(e.NetworkInterfaceId!)} (${e.NetworkInterfaceId})`;
            throw new Error(
                `backend.enis: ${name(first)} is in ${first.SubnetId} but ${name(other)} is in ${other.SubnetId}; ` +
                    "a secondary private IP moves only between ENIs of one subnet: choose ENIs in one subnet.",
            );
        }
        const subnets = await this.call("DescribeSubnets", () =>
            this.client.send(new DescribeSubnetsCommand({ SubnetIds: [first.SubnetId!] })),
        );
        const cidr = subnets.Subnets?.[0]?.CidrBlock;
        if (cidr && !inCidr(this.b.privateIp, cidr)) {
            throw new Error(
                `backend.privateIp: ${this.b.privateIp} is outside ${first.SubnetId} (${cidr}) of the ENIs; choose a free address in ${cidr}.`,
            );
        }
        const primary = found.find((e) =>
            e.PrivateIpAddresses?.some((a) => a.Primary && a.PrivateIpAddress === this.b.privateIp),
        );
        if (primary) {
            throw new Error(
                `backend.privateIp: ${this.b.privateIp} is the primary address of ${primary.NetworkInterfaceId}, which cannot move; choose a free secondary address in ${cidr ?? first.SubnetId}.`,
            );
        }
        await this.current();
    }

    /**
     * The instance whose ENI holds the IP; undefined when none does. An ENI outside `backend.enis`
     * holding it (in the ENIs' subnet, the only place it can be) is an error: another host answers at the VIP.
     */
    async current(): Promise<string | undefined> {
        await checkAwsAccess(this.client, "eni", this.description);
        const found = await this.enis();
        const holders = found.filter((e) => this.holds(e)).map((e) => this.byEni.get(e.NetworkInterfaceId!)!);
        if (holders.length > 1) {
            throw new VipSplitError(this.description, holders);
        }
        if (holders.length === 0 && found[0]?.SubnetId) {
            // Only an ENI of the same subnet can hold the address. The addresses are compared here rather
            // than with the "addresses.private-ip-address" filter, which moto applies to primary addresses only.
            const inSubnet = await this.describe([{ Name: "subnet-id", Values: [found[0].SubnetId] }]);
            const foreign = inSubnet.filter((e) => !this.byEni.has(e.NetworkInterfaceId!) && this.holds(e));
            if (foreign.length > 0) {
                throw new Error(
                    `${this.description} is held by ${foreign.map((e) => e.NetworkInterfaceId).join(", ")}, which is not in backend.enis (${[...this.byEni.keys()].join(", ")}); ` +
                        "unassign it there, or add that host's instance to backend.enis.",
                );
            }
        }
        return holders[0];
    }

    /** Takes the IP off `from`; an ENI that no longer holds it when re-read is fine (EC2 got there first). */
    private async unassign(from: string[]): Promise<void> {
        for (const id of from) {
            try {
                await this.client.send(
                    new UnassignPrivateIpAddressesCommand({
                        NetworkInterfaceId: id,
                        PrivateIpAddresses: [this.b.privateIp],
                    }),
                );
            } catch (err) {
                const still = (await this.describe([{ Name: "network-interface-id", Values: [id] }])).some((e) =>
                    this.holds(e),
                );
                if (still) {
                    throw new Error(
                        `${this.description}: UnassignPrivateIpAddresses from ${id} failed: ${awsErrorText(err)}`,
                    );
                }
            }
        }
    }

    /** Assigns the IP to `target`'s ENI (taking it off any other), then waits until EC2 shows it there only. */
    async moveTo(target: string): Promise<void> {
        const eni = this.b.enis[target];
        if (eni === undefined) {
            throw new Error(
                `${this.description}: instance ${target} has no ENI in backend.enis (${Object.keys(this.b.enis).join(", ")}).`,
            );
        }
        await checkAwsAccess(this.client, "eni", this.description);
        const start = Date.now();
        const holders = async () => (await this.enis()).filter((e) => this.holds(e)).map((e) => e.NetworkInterfaceId!);
        const there = (h: string[]) => h.length === 1 && h[0] === eni;
        if (there(await holders())) {
            return;
        }
        // 1. One call moves the address: reassignment takes it off the ENI that holds it.
        await this.call(`AssignPrivateIpAddresses to ${eni}`, () =>
            this.client.send(
                new AssignPrivateIpAddressesCommand({
                    NetworkInterfaceId: eni,
                    PrivateIpAddresses: [this.b.privateIp],
                    AllowReassignment: true,
                }),
            ),
        );
        const assignMs = Date.now() - start;
        // 2. EC2 takes the address off the other ENI as part of the reassignment, asynchronously: read
        //    until the target's ENI, and no other of ours, holds it. A read that shows it on the target
        //    and on another ENI (a stale read; moto, the test server, never removes it) unassigns it there.
        await pollUntil(
            {
                description: this.description,
                awaited: `${this.b.privateIp} on ${eni} only`,
                show: (h) => (h.length ? `held by ${h.join(", ")}` : "held by no ENI"),
            },
            async () => {
                const h = await holders();
                if (h.includes(eni) && h.length > 1) {
                    await this.unassign(h.filter((x) => x !== eni));
                    return holders();
                }
                return h;
            },
            there,
            { intervalMs: this.b.intervalMs ?? D.intervalMs, timeoutMs: this.b.timeoutMs ?? D.timeoutMs },
        );
        this.lastMove = { assignMs, attachedMs: Date.now() - start };
    }
}
