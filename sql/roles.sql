-- Cluster-wide roles used by pg_shell (roles are shared by every database of a
-- cluster, so this file is idempotent and applied before the migrations).
-- Needs a role with CREATEROLE (a superuser in the embedded default).
--
--   pgshell_owner     owns every pg_shell object; NOLOGIN
--   pgshell_executor  claims and completes commands (grant it to the executor's login role)
--   pgshell_anon      unauthenticated web requests: may only log in
--   pgshell_user      a logged-in user: runs commands in their own sessions
--   pgshell_auditor   reads every session and the audit log, runs nothing
--   pgshell_admin     manages users and programs
do $$
declare r text;
begin
    foreach r in array array['pgshell_owner', 'pgshell_executor', 'pgshell_anon',
                             'pgshell_user', 'pgshell_auditor', 'pgshell_admin']
    loop
        if not exists (select 1 from pg_roles where rolname = r) then
            begin
                execute format('create role %I nologin', r);
            exception when duplicate_object or unique_violation then
                null; -- created concurrently by another database's init
            end;
        end if;
    end loop;
end $$;

-- pgshell_authenticator: the role a gateway (PostgREST, `pg_shell serve`) logs
-- in as. NOINHERIT: by itself it can do nothing; per request it switches to
-- pgshell_anon or, from a JWT's role claim or the session cookie
-- (pgshell.pre_request), to the user's role. Give it a password to use it:
--   alter role pgshell_authenticator password '...';
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'pgshell_authenticator') then
        begin
            create role pgshell_authenticator login noinherit;
        exception when duplicate_object or unique_violation then
            null;
        end;
    end if;
    if not exists (select 1 from pg_auth_members m
                   where m.member = 'pgshell_authenticator'::regrole and m.roleid = 'pgshell_admin'::regrole) then
        begin
            grant pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin to pgshell_authenticator;
        exception when duplicate_object or unique_violation then
            null; -- granted concurrently by another database's init
        end;
    end if;
end $$;
