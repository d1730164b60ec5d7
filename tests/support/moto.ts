/**
 * AWS on a moto server (tools/moto.ts) for tests: SDK clients pointed at it, and the few calls that
 * build a fake VPC (subnets, ENIs, secondary IPs, a private hosted zone and its records) and read the
 * AWS-side state back after a move.
 */
import {
    AssignPrivateIpAddressesCommand,
    CreateNetworkInterfaceCommand,
    CreateSubnetCommand,
    CreateVpcCommand,
    DescribeNetworkInterfacesCommand,
    EC2Client,
} from "@aws-sdk/client-ec2";
import {
    ChangeResourceRecordSetsCommand,
    CreateHostedZoneCommand,
    ListResourceRecordSetsCommand,
    Route53Client,
} from "@aws-sdk/client-route-53";
import { Moto } from "../../tools/moto";

/** The region every moto test uses. */
export const REGION = "us-east-1";
/** moto accepts any credentials; these are fake. */
export const FAKE_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

/** A record as Route53 holds it. */
export interface RecordSet {
    type: string;
    ttl: number | undefined;
    values: string[];
}

/** SDK clients on one moto server, and the setup calls the AWS tests share. */
export class MotoAws {
    readonly ec2: EC2Client;
    readonly r53: Route53Client;

    /**
     * @param credentials given to the clients as arguments; undefined: the SDK's standard chain (the
     *   caller's environment) supplies them. @default undefined
     */
    constructor(
        readonly moto: Moto,
        credentials?: { accessKeyId: string; secretAccessKey: string },
    ) {
        const common = { region: REGION, endpoint: moto.endpoint, ...(credentials ? { credentials } : {}) };
        this.ec2 = new EC2Client(common);
        this.r53 = new Route53Client(common);
    }

    /** A new VPC's id. */
    async vpc(cidr: string): Promise<string> {
        return (await this.ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
    }

    /** A new subnet's id. */
    async subnet(vpcId: string, cidr: string): Promise<string> {
        return (await this.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr }))).Subnet!.SubnetId!;
    }

    /** A new ENI's id, with `ip` as its primary private IP. */
    async eni(subnetId: string, ip: string): Promise<string> {
        const nic = await this.ec2.send(
            new CreateNetworkInterfaceCommand({ SubnetId: subnetId, PrivateIpAddress: ip }),
        );
        return nic.NetworkInterface!.NetworkInterfaceId!;
    }

    /** Gives the ENI `ips` as secondary private IPs. */
    async assign(eniId: string, ...ips: string[]): Promise<void> {
        await this.ec2.send(
            new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ips }),
        );
    }

    /** A new private hosted zone `db.internal` of the VPC; its id without the `/hostedzone/` prefix. */
    async privateZone(vpcId: string, callerReference: string, comment?: string): Promise<string> {
        const zone = await this.r53.send(
            new CreateHostedZoneCommand({
                Name: "db.internal",
                CallerReference: callerReference,
                HostedZoneConfig: { PrivateZone: true, ...(comment === undefined ? {} : { Comment: comment }) },
                VPC: { VPCId: vpcId, VPCRegion: REGION },
            }),
        );
        return zone.HostedZone!.Id!.replace("/hostedzone/", "");
    }

    /** Creates or replaces a record (TTL 1) with `values`. */
    async upsert(zoneId: string, name: string, type: "A" | "CNAME", ...values: string[]): Promise<void> {
        const set = { Name: name, Type: type, TTL: 1, ResourceRecords: values.map((Value) => ({ Value })) };
        const ChangeBatch = { Changes: [{ Action: "UPSERT" as const, ResourceRecordSet: set }] };
        await this.r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch }));
    }

    /** The record `name` of `type` as Route53 holds it, or undefined when there is none. */
    async record(zoneId: string, name: string, type: string): Promise<RecordSet | undefined> {
        const list = { HostedZoneId: zoneId, StartRecordName: name, StartRecordType: type as "A" };
        const out = await this.r53.send(new ListResourceRecordSetsCommand(list));
        const r = (out.ResourceRecordSets ?? []).find((x) => x.Name?.replace(/\.$/, "") === name && x.Type === type);
        return r && { type: r.Type!, ttl: r.TTL, values: (r.ResourceRecords ?? []).map((v) => v.Value!) };
    }

    /** Which of `enis` (name → ENI id) hold `ip`, by name, as EC2 reports it. */
    async holders(enis: Record<string, string>, ip: string): Promise<string[]> {
        const out = await this.ec2.send(
            new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.values(enis) }),
        );
        return (out.NetworkInterfaces ?? [])
            .filter((n) => n.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === ip))
            .map((n) => Object.entries(enis).find(([, id]) => id === n.NetworkInterfaceId)![0]);
    }
}
