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
