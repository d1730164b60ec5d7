/**
 * What the live probe tests share: an endpoint as the sandbox's admin, and ProbeErrors kept so that the
 * end of the suite can check that no error text holds the password.
 */
import assert from "node:assert/strict";
import { MysqlEndpoint, ProbeError } from "../../components/mysql";
import { ADMIN } from "../../sandbox/mariadb";

/** `at` reached as the sandbox's admin; `over` changes any field. */
export function adminEndpoint(at: { host: string; port: number }, over: Partial<MysqlEndpoint> = {}): MysqlEndpoint {
    return { host: at.host, port: at.port, user: ADMIN.user, password: ADMIN.password, ...over };
}

/** Texts of errors seen (none may hold a password), and `probeError`, which expects one and keeps its text. */
export function probeErrors(): { errors: string[]; probeError(p: Promise<unknown>): Promise<ProbeError> } {
    const errors: string[] = [];
    return {
        errors,
        /** Expects a ProbeError; keeps its text for the password check at the end. */
        async probeError(p: Promise<unknown>): Promise<ProbeError> {
            const err = await p.then(
                () => undefined,
                (e: unknown) => e,
            );
            assert.ok(err instanceof ProbeError, `expected a ProbeError, got ${String(err)}`);
            errors.push(err.message);
            return err;
        },
    };
}

/**
 * The instance of a sandbox at `port`, named `name`, as the preflight reaches it: the sandbox's source
 * user lacks SLAVE MONITOR (SHOW ALL SLAVES STATUS), so the admin reads.
 */
export function adminInstance(sb: { admin: { user: string; password: string } }, port: number, name: string) {
    return { name, host: "127.0.0.1", port, user: sb.admin.user, password: sb.admin.password };
}
