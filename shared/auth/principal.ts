// Who is calling: a tenant and a role. Admins read and write their tenant's tasks; readers only read.
export type Role = 'admin' | 'reader';

export interface Principal {
  tenant: string;
  role: Role;
  /**
   * The audit trail's actor (never the token): `token:<id>` for an API token, whose label is shown
   * beside it; system names (`reconciler`, …) are for Ferry's own work only.
   */
  subject: string;
  /** The token's label, when the caller is a token. */
  label?: string | undefined;
}
