/**
 * A salted digest of a password, so that a provider can tell that a password changed without keeping the
 * password: `diff` never sees the old password (it is not an output), only this. Pure, no @pulumi/* import.
 *
 * HMAC-SHA256 keyed with 16 random bytes: the digest is also a secret output (encrypted in the state like
 * the password input itself), so a slow KDF would only slow down every preview.
 */
import * as crypto from "node:crypto";

const PREFIX = "hmac-sha256";

/** `hmac-sha256:<salt>:<digest>` (base64url) of `password`, with a new random salt unless one is given. */
export function passwordDigest(password: string, salt: Buffer = crypto.randomBytes(16)): string {
    const mac = crypto.createHmac("sha256", salt).update(password, "utf8").digest("base64url");
    return `${PREFIX}:${salt.toString("base64url")}:${mac}`;
}

/**
 * Whether `digest` is `password`'s; undefined when there is no digest to compare with (a state written before
 * digests were kept) or it is not one this module wrote.
 */
export function digestMatches(digest: string | undefined, password: string): boolean | undefined {
    const m = digest === undefined ? null : /^hmac-sha256:([A-Za-z0-9_-]+):([A-Za-z0-9_-]+)$/.exec(digest);
    if (!m) {
        return undefined;
    }
    const want = Buffer.from(passwordDigest(password, Buffer.from(m[1], "base64url")));
    const have = Buffer.from(digest!);
    return want.length === have.length && crypto.timingSafeEqual(want, have);
}
