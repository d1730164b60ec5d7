/**
 * A VIP made by a Route53 record: the instance the VIP points at is the one whose value the record
 * holds. A move UPSERTs the record, waits until Route53 reports the change INSYNC on its name servers,
 * then waits out the old record's TTL, the longest a resolver may still answer the old value.
 */
import {
    ChangeResourceRecordSetsCommand,
    GetChangeCommand,
    GetHostedZoneCommand,
    ListResourceRecordSetsCommand,
    ResourceRecordSet,
    Route53Client,
} from "@aws-sdk/client-route-53";
import { AwsVipBackend, awsErrorCode, awsErrorText, checkAwsAccess, pollUntil, sleep, throwIfInvalid } from "./aws";
import {
    AWS_VIP_DEFAULTS,
    bareZoneId,
    checkRoute53Inputs,
    isInZone,
    MAX_RECORD_TTL,
    normalizeDnsName,
    Route53BackendInputs,
    route53RecordType,
} from "./awsInputs";
import { VipSplitError } from "./types";

const D = AWS_VIP_DEFAULTS.route53;

/** Route53 is global: when no region is configured, sign for the one its API lives in. */
async function defaultRegion(): Promise<string> {
    try {
        return await new Route53Client({}).config.region();
    } catch {
        return D.region;
    }
}

/** How long each part of the last move took, in milliseconds (for logs and benchmarks). */
export interface Route53MoveTimings {
    /** ChangeResourceRecordSets answered. */
    changeMs: number;
    /** GetChange reported INSYNC, counted from the start of the move. */
    inSyncMs: number;
    /** Waiting out the old record's TTL. */
    ttlWaitMs: number;
}

/** A Route53 record as the VIP; built by `awsVipBackend` from a Vip's `backend` input. */
export class Route53Vip implements AwsVipBackend {
    readonly description: string;
    /** Filled by each `moveTo` that changed the record. */
    lastMove?: Route53MoveTimings;
    private readonly client: Route53Client;
    private readonly zoneId: string;
    private readonly name: string;
    private readonly type: "A" | "CNAME";
    private readonly byValue: Map<string, string>;

    constructor(private readonly b: Route53BackendInputs) {
        throwIfInvalid(checkRoute53Inputs(b));
        this.zoneId = bareZoneId(b.zoneId);
        this.name = normalizeDnsName(b.recordName);
        this.type = route53RecordType(b)!;
        this.description = `Route53 ${this.type} record ${this.name} in zone ${this.zoneId}`;
        this.byValue = new Map(Object.entries(b.values).map(([instance, v]) => [this.norm(v), instance]));
        let region: Promise<string> | undefined;
        this.client = new Route53Client({
            region: b.region ?? (() => (region ??= defaultRegion())),
            endpoint: b.endpoint,
        });
    }

    private norm(value: string): string {
        return this.type === "CNAME" ? normalizeDnsName(value) : value.trim();
    }

    private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
        try {
            return await fn();
        } catch (err) {
            throw new Error(`${this.description}: ${what} failed: ${awsErrorText(err)}`);
        }
    }

    /** Every record set named like the VIP's record, of any type (Route53 lists by name, then type). */
    private async recordsNamed(): Promise<ResourceRecordSet[]> {
        const out = await this.call("ListResourceRecordSets", () =>
            this.client.send(
                new ListResourceRecordSetsCommand({
                    HostedZoneId: this.zoneId,
                    StartRecordName: this.name,
                    MaxItems: 100,
                }),
            ),
        );
        return (out.ResourceRecordSets ?? []).filter((r) => normalizeDnsName(r.Name ?? "") === this.name);
    }

    private ours(records: ResourceRecordSet[]): ResourceRecordSet | undefined {
        return records.find((r) => r.Type === this.type);
    }

    /** Instances whose values the record holds; throws on a value that is none of them. */
    private instancesIn(record: ResourceRecordSet | undefined): string[] {
        const values = (record?.ResourceRecords ?? []).map((r) => this.norm(r.Value ?? ""));
        const unknown = values.filter((v) => !this.byValue.has(v));
        if (unknown.length > 0) {
            throw new Error(
                `${this.description} holds ${unknown.join(", ")}, which is not the value of any instance (${[...this.byValue.keys()].join(", ")}); ` +
                    "set the record to one of them by hand, or add the instance to backend.values.",
            );
        }
        return values.map((v) => this.byValue.get(v)!);
    }

    /**
     * Checks, before any DM task is paused, that the zone exists, the record name is inside it, and the
     * record (if it exists) is a plain record of the right type with a TTL a move can wait out.
     */
    async preflight(): Promise<void> {
        await checkAwsAccess(this.client, "route53", this.description);
        let zoneName: string;
        try {
            const zone = await this.client.send(new GetHostedZoneCommand({ Id: this.zoneId }));
            zoneName = normalizeDnsName(zone.HostedZone?.Name ?? "");
        } catch (err) {
            if (awsErrorCode(err) === "NoSuchHostedZone") {
                throw new Error(
                    `backend.zoneId: hosted zone ${this.zoneId} does not exist (or these credentials cannot see it); set backend.zoneId to the zone holding ${this.name} (aws route53 list-hosted-zones).`,
                );
            }
            throw new Error(`${this.description}: GetHostedZone failed: ${awsErrorText(err)}`);
        }
        if (!isInZone(this.name, zoneName)) {
            throw new Error(
                `backend.recordName: ${this.name} is not inside zone ${this.zoneId} (${zoneName}); set backend.recordName to a name ending in .${zoneName}.`,
            );
        }
        if (this.type === "CNAME" && this.name === zoneName) {
            throw new Error(
                `backend.recordName: ${this.name} is the zone's apex, which cannot hold a CNAME; use a name under ${zoneName}, or A records with addresses as backend.values.`,
            );
        }
        const records = await this.recordsNamed();
        // DNS allows no other record beside a CNAME: Route53 would refuse the UPSERT mid-switch.
        const clash = records.find(
            (r) =>
                r.Type !== this.type &&
                (this.type === "CNAME" ? r.Type !== "SOA" && r.Type !== "NS" : r.Type === "CNAME"),
        );
        if (clash) {
            throw new Error(
                `backend.recordType: ${this.name} in zone ${this.zoneId} is a ${clash.Type} record, but backend.values make it ${this.type}; ` +
                    `set backend.values (or recordType) to match the record, or delete the ${clash.Type} record first.`,
            );
        }
        const mine = records.filter((r) => r.Type === this.type);
        if (mine.some((r) => r.SetIdentifier !== undefined || r.AliasTarget !== undefined)) {
            throw new Error(
                `backend.recordName: ${this.name} ${this.type} in zone ${this.zoneId} is an alias or routing-policy record; dm-switch moves only a plain record: use another name.`,
            );
        }
        const ttl = mine[0]?.TTL ?? 0;
        if (ttl > MAX_RECORD_TTL) {
            throw new Error(
                `${this.description} has TTL ${ttl} s, longer than the ${MAX_RECORD_TTL} s a move may keep DM paused to wait it out; ` +
                    `lower the record's TTL to backend.ttl (${this.b.ttl ?? D.ttl}) by hand and wait ${ttl} s first.`,
            );
        }
        this.instancesIn(mine[0]);
    }

    /** The instance whose value the record holds; undefined when there is no record. */
    async current(): Promise<string | undefined> {
        await checkAwsAccess(this.client, "route53", this.description);
        const instances = this.instancesIn(this.ours(await this.recordsNamed()));
        if (instances.length > 1) {
            throw new VipSplitError(this.description, instances);
        }
        return instances[0];
    }

    /** UPSERTs the record to `target`'s value, waits for INSYNC, then waits out the old value's TTL. */
    async moveTo(target: string): Promise<void> {
        const value = this.b.values[target];
        if (value === undefined) {
            throw new Error(
                `${this.description}: instance ${target} has no value in backend.values (${Object.keys(this.b.values).join(", ")}).`,
            );
        }
        await checkAwsAccess(this.client, "route53", this.description);
        const ttl = this.b.ttl ?? D.ttl;
        const start = Date.now();
        // 1. What resolvers may hold now: the old values and their TTL.
        const before = this.ours(await this.recordsNamed());
        const oldValues = (before?.ResourceRecords ?? []).map((r) => this.norm(r.Value ?? ""));
        const sameValue = oldValues.length === 1 && oldValues[0] === this.norm(value);
        if (sameValue && before?.TTL === ttl) {
            return;
        }
        // 2. UPSERT: one atomic change of the whole record set.
        const change = await this.call("ChangeResourceRecordSets", () =>
            this.client.send(
                new ChangeResourceRecordSetsCommand({
                    HostedZoneId: this.zoneId,
                    ChangeBatch: {
                        Comment: `dm-switch: VIP to ${target}`,
                        Changes: [
                            {
                                Action: "UPSERT",
                                ResourceRecordSet: {
                                    Name: this.name,
                                    Type: this.type,
                                    TTL: ttl,
                                    ResourceRecords: [{ Value: value }],
                                },
                            },
                        ],
                    },
                }),
            ),
        );
        const changeMs = Date.now() - start;
        const id = change.ChangeInfo?.Id ?? "";
        // 3. Route53's name servers all answer the new value once the change is INSYNC.
        await pollUntil(
            { description: this.description, awaited: `change ${id} INSYNC`, show: (s) => s ?? "no status" },
            async () =>
                (await this.call("GetChange", () => this.client.send(new GetChangeCommand({ Id: id })))).ChangeInfo
                    ?.Status,
            (s) => s === "INSYNC",
            { intervalMs: this.b.intervalMs ?? D.intervalMs, timeoutMs: this.b.timeoutMs ?? D.timeoutMs },
        );
        const inSyncMs = Date.now() - start;
        // 4. Resolvers (the VPC's included) may answer the old value until its TTL runs out; DM's
        //    connections must not reach the old instance after its tasks resume.
        if (!sameValue && before?.TTL) {
            await sleep(before.TTL * 1000);
        }
        this.lastMove = { changeMs, inSyncMs, ttlWaitMs: Date.now() - start - inSyncMs };
        const now = await this.current();
        if (now !== target) {
            throw new Error(`${this.description}: after moving to ${target} the record points at ${now ?? "nothing"}.`);
        }
    }
}
