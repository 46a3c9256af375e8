-- The migration ledger. Owned by whoever runs migrations (applied as that role,
-- before SET ROLE pgshell_owner), idempotent.
create schema if not exists pgshell_meta;
create table if not exists pgshell_meta.schema_version (
    version    integer primary key,
    name       text not null,
    applied_at timestamptz not null default now()
);
do $$ begin
    execute format('grant create on database %I to pgshell_owner', current_database());
end $$;
-- Which schema a database is at is no secret: gateways (`/readyz`) and
-- executors of any role compare it with their own release.
grant usage on schema pgshell_meta to public;
grant select on pgshell_meta.schema_version to public;
