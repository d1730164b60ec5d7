/**
 * Pure GTID algebra for MySQL (with 8.4 tagged GTIDs) and MariaDB, and the rule of DM's switch
 * procedure, {@link checkSwitch}. No I/O and no @pulumi/* import: the policy pack, the providers and the
 * CLI all call this one implementation.
 *
 * Semantics per flavor: `mysql.ts` (sets of transactions, exact, sequence numbers beyond 2^53 exact) and
 * `mariadb.ts` (positions compared per domain, plus a per-server divergence check in the rule — read its
 * header before relying on MariaDB containment).
 */
export type { Flavor } from "./errors";
export { GtidParseError } from "./errors";
export type { GtidSet } from "./sets";
export { contains, equals, formatGtidSet, fromServer, isEmpty, parseGtidSet, subtract, union } from "./sets";
export type { SwitchVerdict } from "./check";
export { checkSets, checkSwitch } from "./check";
export type { MariadbGtid } from "./mariadb";
export { domainPosition, mariadbEntries, MariadbGtidSet, parseMariadb } from "./mariadb";
