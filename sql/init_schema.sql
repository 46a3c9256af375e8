-- Loads the whole pg_shell schema with psql:  psql -v ON_ERROR_STOP=1 -f sql/init_schema.sql
-- `pg_shell init` applies the same files (embedded with include_str!), one
-- transaction per migration, skipping those recorded in pgshell_meta.schema_version.
-- Run this file only on a database without pg_shell; use `pg_shell init` to upgrade.
\set ON_ERROR_STOP on
\ir roles.sql
begin;
\ir meta.sql
set local role pgshell_owner;
\ir migrations/0001_core.sql
\ir migrations/0002_replay_audit.sql
\ir migrations/0003_web.sql
\ir migrations/0004_execution_core.sql
\ir migrations/0005_tree_objects.sql
\ir migrations/0006_plans.sql
\ir migrations/0008_native_security.sql
\ir migrations/0009_login_security.sql
\ir migrations/0010_audit_v2.sql
\ir migrations/0011_operations.sql
\ir migrations/0012_postgrest.sql
\ir migrations/0013_import.sql
\ir migrations/0014_live_output.sql
\ir migrations/0015_terminal.sql
\ir migrations/0016_gc.sql
\ir migrations/0017_heartbeat_holds.sql
\ir migrations/0018_files.sql
\ir migrations/0019_hold_ui.sql
\ir migrations/0021_web_terminal.sql
\ir migrations/0022_heartbeat_claims.sql
\ir migrations/0024_import_input.sql
\ir migrations/0025_complete_lock_order.sql
reset role;
insert into pgshell_meta.schema_version (version, name) values (1, '0001_core'), (2, '0002_replay_audit'), (3, '0003_web'), (4, '0004_execution_core'), (5, '0005_tree_objects'), (6, '0006_plans'), (8, '0008_native_security'), (9, '0009_login_security'), (10, '0010_audit_v2'), (11, '0011_operations'), (12, '0012_postgrest'), (13, '0013_import'), (14, '0014_live_output');
insert into pgshell_meta.schema_version (version, name) values (15, '0015_terminal');
insert into pgshell_meta.schema_version (version, name) values (16, '0016_gc'), (17, '0017_heartbeat_holds');
insert into pgshell_meta.schema_version (version, name) values (18, '0018_files');
insert into pgshell_meta.schema_version (version, name) values (19, '0019_hold_ui');
insert into pgshell_meta.schema_version (version, name) values (21, '0021_web_terminal');
insert into pgshell_meta.schema_version (version, name) values (22, '0022_heartbeat_claims');
insert into pgshell_meta.schema_version (version, name) values (24, '0024_import_input');
insert into pgshell_meta.schema_version (version, name) values (25, '0025_complete_lock_order');
commit;
