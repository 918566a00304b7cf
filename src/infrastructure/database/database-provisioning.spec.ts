import { describe, expect, it } from '@jest/globals';
import { DatabaseProvisioningError, databaseName, maintenanceUrl } from './database-provisioning.js';

describe('databaseName', () => {
  it('reads the database from the URL path', () => {
    expect(databaseName('postgres://u:p@h:5432/custodian')).toBe('custodian');
  });

  it('refuses a name that would need quoting tricks', () => {
    expect(() => databaseName('postgres://h/bad%22name')).toThrow(DatabaseProvisioningError);
    expect(() => databaseName('postgres://h/1abc')).toThrow(/must start with a letter/);
  });
});

describe('maintenanceUrl', () => {
  it('keeps credentials and host but points at the postgres database', () => {
    expect(maintenanceUrl('postgres://u:p@h:5432/custodian?sslmode=require')).toBe(
      'postgres://u:p@h:5432/postgres?sslmode=require',
    );
  });
});
