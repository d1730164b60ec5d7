/**
 * dm-master's address: one `host:port`, or every member of a highly available dm-master cluster as
 * dmctl's `--master-addr` takes them, `a:8261,b:8261,c:8261` (comma-separated, no spaces: the same
 * text goes into the plan's dmctl lines). Any live member serves the OpenAPI and gRPC: a member that
 * is not the leader forwards the request to the leader itself. Pure: no I/O.
 */

/** `host:port` (a DNS name or IPv4 address) or `[ipv6]:port`. */
const MEMBER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/**
 * Why `address` is not a usable dm-master address (naming the member at fault and the remedy), or
 * undefined when it is. `name` is how the caller's user knows the setting.
 */
export function dmAddressProblem(address: unknown, name = "dm.address"): string | undefined {
    const example = `for example "10.0.0.5:8261", or "10.0.0.5:8261,10.0.0.6:8261,10.0.0.7:8261" for several dm-masters`;
    if (Array.isArray(address)) {
        return `${name} must be one string, the dm-masters separated by commas (${example}), got a list: write ${JSON.stringify(address.map(String).join(","))}`;
    }
    const members = typeof address === "string" ? address.split(",") : [];
    const bad = members.find((m) => !isMember(m));
    if (typeof address === "string" && bad === undefined) {
        const seen = members.find((m, i) => members.indexOf(m) !== i);
        return seen === undefined
            ? undefined
            : `${name} names dm-master ${seen} twice in ${JSON.stringify(address)}: list each member once`;
    }
    const spaces = typeof address === "string" && /\s/.test(address) ? ", without spaces" : "";
    const which = members.length > 1 ? `; member ${JSON.stringify(bad)} is not` : "";
    return `${name} must be dm-master's host:port with a port from 1 to 65535 (or several separated by commas${spaces}, ${example})${which}, got ${JSON.stringify(address)}`;
}

/** True for one `host:port` with a TCP port. */
function isMember(m: string): boolean {
    const port = MEMBER.exec(m)?.[1];
    return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
}

/** The members of a valid dm-master address, in the order given. */
export function dmMembers(address: string): string[] {
    return address.split(",");
}
