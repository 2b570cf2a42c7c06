// Who is calling: a tenant and a role. Admins read and write their tenant's tasks; readers only read.
export type Role = 'admin' | 'reader';

export interface Principal {
  tenant: string;
  role: Role;
  /** For the audit trail: the token's label (never the token). */
  subject: string;
}
