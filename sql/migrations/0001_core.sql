-- 0001_core: the spine of pgshell.
--
-- Schema `pgshell` (names starting with pg_ are reserved by PostgreSQL) holds the tables and the executor's queue functions; schema
-- `api` holds the public contract (served by PostgREST or `pg_shell serve`).
-- Every object is owned by the NOLOGIN role pgshell_owner, so SECURITY DEFINER
-- functions run with exactly the owner's rights, never a superuser's.
--
-- Applied by `pg_shell init` in one transaction, after the caller has run
-- `SET ROLE pgshell_owner` (see sql/init_schema.sql for the psql form).

create extension if not exists pgcrypto;  -- bcrypt for passwords (crypt/gen_salt)

create schema pgshell;
create schema api;
comment on schema api is 'pg_shell public API: every function here is an RPC endpoint.';

-- ---------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------
create type pgshell.user_role as enum ('user', 'auditor', 'admin');

create table pgshell.users (
    id            bigint generated always as identity primary key,
    name          text not null,
    role          pgshell.user_role not null default 'user',
    password_hash text,                     -- bcrypt via pgcrypto; null = cannot log in with a password
    disabled      boolean not null default false,
    created_at    timestamptz not null default now(),
    constraint users_name_key unique (name),
    constraint users_name_format check (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$')
);

-- ---------------------------------------------------------------------------
-- Content-addressed storage
-- ---------------------------------------------------------------------------
create table pgshell.blobs (
    digest     bytea primary key,            -- sha256(data)
    size       bigint not null,
    data       bytea not null,
    created_at timestamptz not null default now(),
    constraint blobs_digest_len check (length(digest) = 32),
    constraint blobs_size_matches check (size = length(data))
);
alter table pgshell.blobs alter column data set storage external; -- files are often already compressed; skip pglz

-- An environment version is immutable and identified by the digest of its
-- canonical form (cwd, variables, tree manifest digest), computed by the
-- executor (src/env.rs). Identical environments are stored once, across sessions.
create table pgshell.environments (
    digest     bytea primary key,
    cwd        text not null,
    vars       jsonb not null,               -- {"NAME": "value", ...}
    tree       bytea not null references pgshell.blobs (digest), -- manifest blob: sorted JSON list of entries
    file_count integer not null,
    tree_bytes bigint not null,              -- sum of file sizes, for the per-environment size limit
    created_at timestamptz not null default now(),
    constraint environments_digest_len check (length(digest) = 32),
    constraint environments_cwd_absolute check (left(cwd, 1) = '/')
);

-- ---------------------------------------------------------------------------
-- Programs: what the resolver may run besides builtins
-- ---------------------------------------------------------------------------
create type pgshell.program_kind as enum ('wasi', 'native');

create table pgshell.programs (
    name          text primary key,
    kind          pgshell.program_kind not null,
    module_digest bytea references pgshell.blobs (digest), -- wasi: the module
    native_path   text,                                     -- native: absolute path on the executor host
    enabled       boolean not null default true,
    limits        jsonb not null default '{}',              -- overrides of pgshell.settings limits
    description   text,
    registered_at timestamptz not null default now(),
    registered_by text not null default current_user,
    constraint programs_name_format check (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$' or name = '['),
    constraint programs_kind_fields check (
        (kind = 'wasi' and module_digest is not null and native_path is null) or
        (kind = 'native' and native_path is not null and module_digest is null and left(native_path, 1) = '/'))
);

-- ---------------------------------------------------------------------------
-- Settings: limits and knobs an operator may change at run time
-- ---------------------------------------------------------------------------
create table pgshell.settings (
    name  text primary key,
    value jsonb not null,
    description text
);
insert into pgshell.settings (name, value, description) values
    ('max_line_bytes',           '65536',       'longest command line accepted by api.submit'),
    ('max_commands_per_session', '100000',      'commands a session may hold'),
    ('fuel',                     '50000000000', 'WASI fuel budget per command (~7e9 is one CPU second)'),
    ('timeout_ms',               '30000',       'wall-clock limit per command; COMMAND_TIMEOUT on the executor caps it'),
    ('memory_bytes',             '268435456',   'linear memory cap per WASI command / address-space cap per native command'),
    ('stdout_bytes',             '1048576',     'stdout kept per command; the rest is dropped and the truncation recorded'),
    ('stderr_bytes',             '262144',      'stderr kept per command'),
    ('tree_bytes',               '67108864',    'total file bytes an environment may hold'),
    ('tree_files',               '10000',       'files and directories an environment may hold'),
    ('max_attempts',             '3',           'claims of one command before it is recorded as lost');

create function pgshell.setting(p_name text) returns jsonb
language sql stable as $$ select value from pgshell.settings where name = p_name $$;

-- ---------------------------------------------------------------------------
-- Sessions and the command queue
-- ---------------------------------------------------------------------------
create table pgshell.sessions (
    id         uuid primary key default gen_random_uuid(),
    owner_id   bigint not null references pgshell.users (id),
    title      text,
    head_env   bytea references pgshell.environments (digest), -- null until the first command ran: the owner's initial environment
    next_seq   integer not null default 0,
    limits     jsonb not null default '{}',  -- per-session overrides set by an admin
    created_at timestamptz not null default now(),
    closed_at  timestamptz,
    constraint sessions_title_len check (length(title) <= 200)
);
create index sessions_owner_idx on pgshell.sessions (owner_id, created_at);

create type pgshell.command_status as enum ('queued', 'running', 'done', 'cancelled');
create type pgshell.command_outcome as enum (
    'exited', 'timeout', 'fuel_exhausted', 'memory_limit', 'trap', 'not_found', 'rejected', 'lost', 'error');

-- Life of a command:  queued -> running -> done
--                       |         |  ^ (lease expired: claimed again, attempt+1; after max_attempts: done/lost)
--                       +---------+--> cancelled
create table pgshell.commands (
    id               bigint generated always as identity primary key,
    session_id       uuid not null references pgshell.sessions (id),
    seq              integer not null,                 -- 1, 2, ... within the session
    line             text not null,
    submitted_by     bigint not null references pgshell.users (id),
    submitted_at     timestamptz not null default now(),
    status           pgshell.command_status not null default 'queued',
    cancel_requested boolean not null default false,
    -- the claim
    claimed_by       text,                             -- executor id holding the current claim
    claim_token      uuid,                             -- only the holder of this token may complete
    attempt          integer not null default 0,
    lease_expires_at timestamptz,
    started_at       timestamptz,
    -- recorded inputs (what replay needs)
    random_seed      bytea not null default decode(replace(gen_random_uuid()::text, '-', ''), 'hex'),
    clock_base_ns    bigint not null default (extract(epoch from clock_timestamp()) * 1e9)::bigint,
    argv             jsonb,                            -- after parsing and expansion
    program          text,                             -- resolved name
    program_kind     text,                             -- builtin | wasi | native
    program_digest   bytea,                            -- wasi module sha256
    limits           jsonb,                            -- effective limits the command ran under
    env_before       bytea references pgshell.environments (digest),
    -- results
    outcome          pgshell.command_outcome,
    exit_code        integer,
    stdout           bytea,
    stderr           bytea,
    stdout_lossy     text,     -- set only when stdout is not valid UTF-8: the U+FFFD-replaced text
    stderr_lossy     text,
    stdout_truncated boolean,
    stderr_truncated boolean,
    fuel_consumed    bigint,
    run_us           bigint,   -- time inside the runtime
    env_after        bytea references pgshell.environments (digest),
    error            text,     -- human-readable reason for a non-exited outcome
    finished_at      timestamptz,
    constraint commands_session_seq_key unique (session_id, seq),
    constraint commands_done_has_outcome check ((status = 'done') = (outcome is not null)),
    constraint commands_seed_len check (length(random_seed) = 16)
);
-- Serves the claim: pending work is a small set, scanned in id order.
create index commands_pending_idx on pgshell.commands (id) where status in ('queued', 'running');
-- Serves "which is the oldest unfinished command of each session?".
create index commands_session_pending_idx on pgshell.commands (session_id, id) where status in ('queued', 'running');
create index commands_session_idx on pgshell.commands (session_id, id);

create table pgshell.executors (
    id           text primary key,
    host         text not null,
    pid          integer not null,
    version      text not null,
    concurrency  integer not null,
    started_at   timestamptz not null default now(),
    heartbeat_at timestamptz not null default now(),
    stopped_at   timestamptz
);

-- ---------------------------------------------------------------------------
-- Audit log (append-only)
-- ---------------------------------------------------------------------------
create table pgshell.audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default clock_timestamp(),
    actor      text not null,                -- user name, or the database role for service actions
    event      text not null,
    session_id uuid,
    command_id bigint,
    details    jsonb not null default '{}'
);
create index audit_log_session_idx on pgshell.audit_log (session_id, id);

create function pgshell.forbid_change() returns trigger
language plpgsql as $$
begin
    raise exception 'pgshell.%: rows are append-only (% refused)', tg_table_name, tg_op
        using errcode = '42501';
end $$;
create trigger audit_log_append_only before update or delete on pgshell.audit_log
    for each row execute function pgshell.forbid_change();
create trigger audit_log_no_truncate before truncate on pgshell.audit_log
    for each statement execute function pgshell.forbid_change();

-- ---------------------------------------------------------------------------
-- Who is calling
-- ---------------------------------------------------------------------------
-- PostgREST's convention: the caller is the `sub` claim of request.jwt.claims.
create function pgshell.caller_name() returns text
language sql stable as $$
    select nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::json ->> 'sub'
$$;

create function pgshell.caller() returns pgshell.users
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users;
begin
    select * into u from pgshell.users where name = pgshell.caller_name() and not disabled;
    if not found then
        raise exception 'not authenticated' using errcode = '42501',
            hint = 'set request.jwt.claims to {"sub": "<user name>"} or log in';
    end if;
    return u;
end $$;

create function pgshell.audit(p_event text, p_session uuid, p_command bigint, p_details jsonb default '{}')
returns void language sql security definer set search_path = pg_catalog, pg_temp as $$
    insert into pgshell.audit_log (actor, event, session_id, command_id, details)
    values (coalesce(pgshell.caller_name(), session_user::text), p_event, p_session, p_command, coalesce(p_details, '{}'));
$$;

-- The session if the caller may read it (owner, auditor, admin); else 42501.
-- Unknown and foreign sessions get the same error, so ids cannot be probed.
create function pgshell.readable_session(p_session uuid) returns pgshell.sessions
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); s pgshell.sessions;
begin
    select * into s from pgshell.sessions where id = p_session;
    if not found or (s.owner_id <> u.id and u.role = 'user') then
        raise exception 'session % not found', p_session using errcode = '42501';
    end if;
    return s;
end $$;

-- The session if the caller owns it (only owners run commands in a session).
create function pgshell.owned_session(p_session uuid) returns pgshell.sessions
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); s pgshell.sessions;
begin
    select * into s from pgshell.sessions where id = p_session and owner_id = u.id;
    if not found then
        raise exception 'session % not found', p_session using errcode = '42501';
    end if;
    return s;
end $$;

-- ---------------------------------------------------------------------------
-- JSON shapes
-- ---------------------------------------------------------------------------
create function pgshell.command_json(c pgshell.commands) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object(
        'id', c.id,
        'session_id', c.session_id,
        'seq', c.seq,
        'line', c.line,
        'status', c.status,
        'outcome', c.outcome,
        'exit_code', c.exit_code,
        'stdout', coalesce(c.stdout_lossy, convert_from(c.stdout, 'UTF8')),
        'stderr', coalesce(c.stderr_lossy, convert_from(c.stderr, 'UTF8')),
        'stdout_utf8', c.stdout_lossy is null,
        'stderr_utf8', c.stderr_lossy is null,
        'stdout_truncated', c.stdout_truncated,
        'stderr_truncated', c.stderr_truncated,
        'stdout_bytes', length(c.stdout),
        'stderr_bytes', length(c.stderr),
        'fuel', c.fuel_consumed,
        'program', c.program,
        'program_kind', c.program_kind,
        'argv', c.argv,
        'attempt', c.attempt,
        'submitted_at', c.submitted_at,
        'started_at', c.started_at,
        'finished_at', c.finished_at,
        'run_us', c.run_us,
        'queue_ms', round((extract(epoch from (c.started_at - c.submitted_at)) * 1000)::numeric, 3),
        'total_ms', round((extract(epoch from (c.finished_at - c.submitted_at)) * 1000)::numeric, 3),
        'cwd_before', (select e.cwd from pgshell.environments e where e.digest = c.env_before),
        'cwd_after', (select e.cwd from pgshell.environments e where e.digest = c.env_after),
        'env_before', encode(c.env_before, 'hex'),
        'env_after', encode(c.env_after, 'hex'),
        'error', c.error,
        'cancel_requested', c.cancel_requested)
$$;

create function pgshell.session_json(s pgshell.sessions) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object(
        'id', s.id,
        'title', s.title,
        'owner', (select u.name from pgshell.users u where u.id = s.owner_id),
        'created_at', s.created_at,
        'closed_at', s.closed_at,
        'commands', s.next_seq,
        'cwd', coalesce((select e.cwd from pgshell.environments e where e.digest = s.head_env), '/'),
        'pending', (select count(*) from pgshell.commands c
                    where c.session_id = s.id and c.status in ('queued', 'running')))
$$;

-- ---------------------------------------------------------------------------
-- Public API (schema api)
-- ---------------------------------------------------------------------------
create function api.whoami() returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object('name', u.name, 'role', u.role) from pgshell.caller() u
$$;

create function api.create_session(title text default null) returns uuid
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); sid uuid;
begin
    if u.role = 'auditor' then
        raise exception 'auditors cannot open sessions' using errcode = '42501';
    end if;
    insert into pgshell.sessions (owner_id, title) values (u.id, title) returning id into sid;
    perform pgshell.audit('session.created', sid, null, json_build_object('title', title)::jsonb);
    return sid;
end $$;

create function api.submit(session_id uuid, line text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    max_bytes int := pgshell.setting('max_line_bytes')::int;
    max_cmds int := pgshell.setting('max_commands_per_session')::int;
    v_seq int; v_id bigint;
begin
    if s.closed_at is not null then
        raise exception 'session % is closed', s.id using errcode = '55000';
    end if;
    if line is null then
        raise exception 'command line is missing' using errcode = '22004';
    end if;
    if octet_length(line) > max_bytes then
        raise exception 'command line too long: % bytes (limit %)', octet_length(line), max_bytes
            using errcode = '22001', hint = 'the limit is the max_line_bytes setting';
    end if;
    update pgshell.sessions set next_seq = next_seq + 1 where id = s.id returning next_seq into v_seq;
    if v_seq > max_cmds then
        raise exception 'session % holds the maximum of % commands', s.id, max_cmds using errcode = '54000';
    end if;
    insert into pgshell.commands (session_id, seq, line, submitted_by)
    values (s.id, v_seq, line, s.owner_id) returning id into v_id;
    perform pgshell.audit('command.submitted', s.id, v_id, json_build_object('line', line)::jsonb);
    perform pg_notify('pg_shell_queue', s.id::text);
    return v_id;
end $$;

create function api.command(id bigint) returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    select * into c from pgshell.commands where commands.id = command.id;
    if not found then
        raise exception 'command % not found', command.id using errcode = '42501';
    end if;
    perform pgshell.readable_session(c.session_id);
    return pgshell.command_json(c);
end $$;

create function api.history(session_id uuid, after_id bigint default 0) returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pgshell.readable_session(history.session_id);
    return query
        select pgshell.command_json(c) from pgshell.commands c
        where c.session_id = history.session_id and c.id > coalesce(after_id, 0)
        order by c.id;
end $$;

create function api.sessions() returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller();
begin
    return query
        select pgshell.session_json(s) from pgshell.sessions s
        where s.owner_id = u.id or u.role in ('auditor', 'admin')
        order by s.created_at desc, s.id;
end $$;

create function api.session(session_id uuid) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pgshell.session_json(pgshell.readable_session(session_id))
$$;

create function api.cancel(id bigint) returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    select * into c from pgshell.commands where commands.id = cancel.id for update;
    if not found then
        raise exception 'command % not found', cancel.id using errcode = '42501';
    end if;
    perform pgshell.owned_session(c.session_id);
    if c.status = 'queued' then
        update pgshell.commands set status = 'cancelled', finished_at = now() where commands.id = c.id;
        perform pgshell.audit('command.cancelled', c.session_id, c.id, '{"was": "queued"}');
        perform pg_notify('pg_shell_done', c.session_id::text || ' ' || c.id::text);
        perform pg_notify('pg_shell_queue', c.session_id::text); -- the next command may now run
        return true;
    elsif c.status = 'running' then
        update pgshell.commands set cancel_requested = true where commands.id = c.id;
        perform pgshell.audit('command.cancel_requested', c.session_id, c.id, '{"was": "running"}');
        perform pg_notify('pg_shell_cancel', c.id::text);
        return true;
    end if;
    return false;
end $$;

create function api.close_session(session_id uuid) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.owned_session(session_id); n int;
begin
    if s.closed_at is not null then
        return;
    end if;
    update pgshell.sessions set closed_at = now() where id = s.id;
    -- Queued work of a closed session never runs; it is recorded as cancelled.
    update pgshell.commands set status = 'cancelled', finished_at = now()
    where commands.session_id = s.id and status = 'queued';
    get diagnostics n = row_count;
    update pgshell.commands set cancel_requested = true
    where commands.session_id = s.id and status = 'running';
    perform pgshell.audit('session.closed', s.id, null, json_build_object('cancelled_queued', n)::jsonb);
end $$;

-- ---------------------------------------------------------------------------
-- Executor side (role pgshell_executor)
-- ---------------------------------------------------------------------------
create function pgshell.register_executor(p_id text, p_host text, p_pid int, p_version text, p_concurrency int)
returns void language sql security definer set search_path = pg_catalog, pg_temp as $$
    insert into pgshell.executors (id, host, pid, version, concurrency)
    values (p_id, p_host, p_pid, p_version, p_concurrency)
    on conflict (id) do update set heartbeat_at = now(), stopped_at = null;
$$;

-- Extends the lease of every command the executor holds. Returns the ids of
-- held commands whose cancellation was requested.
create function pgshell.heartbeat(p_executor text, p_lease_ms int) returns setof bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    update pgshell.executors set heartbeat_at = now() where id = p_executor;
    return query
        update pgshell.commands set lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
        where claimed_by = p_executor and status = 'running'
        returning (case when cancel_requested then id end);
end $$;

create function pgshell.stop_executor(p_executor text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare r record;
begin
    update pgshell.executors set stopped_at = now() where id = p_executor and stopped_at is null;
    -- Hand back what it held at once instead of waiting for the lease to expire.
    for r in
        update pgshell.commands set status = 'queued', claimed_by = null, claim_token = null, lease_expires_at = null
        where claimed_by = p_executor and status = 'running'
        returning id, session_id
    loop
        perform pgshell.audit('command.released', r.session_id, r.id, jsonb_build_object('executor', p_executor));
        perform pg_notify('pg_shell_queue', r.session_id::text);
    end loop;
end $$;

-- Claims up to p_limit commands, each the oldest unfinished command of its
-- session (one at a time per session, in order). A command whose lease expired
-- is claimed again (attempt + 1) until max_attempts, then recorded as lost.
create function pgshell.claim(p_executor text, p_lease_ms int, p_limit int)
returns table (
    id bigint, session_id uuid, seq int, line text, attempt int, claim_token uuid,
    env_before bytea, head_env bytea, owner_name text, random_seed bytea, clock_base_ns bigint,
    session_limits jsonb, cancel_requested boolean)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare max_attempts int := pgshell.setting('max_attempts')::int; lost record; r record;
begin
    for lost in
        update pgshell.commands c
        set status = 'done', outcome = 'lost', exit_code = 137, finished_at = now(),
            error = format('executor lost the command %s times (last holder %s)', c.attempt, c.claimed_by),
            claim_token = null, lease_expires_at = null,
            stdout = coalesce(c.stdout, ''), stderr = coalesce(c.stderr, ''),
            env_after = c.env_before
        where c.status = 'running' and c.lease_expires_at < now() and c.attempt >= max_attempts
        returning c.id, c.session_id
    loop
        perform pgshell.audit('command.lost', lost.session_id, lost.id, '{}');
        perform pg_notify('pg_shell_done', lost.session_id::text || ' ' || lost.id::text);
    end loop;

    for r in
        with picked as (
            -- The head of each session (its oldest unfinished command), if it
            -- is waiting or its claim expired. Heads only move forward, so a
            -- head seen in this snapshot is safe to take; the row lock and the
            -- status re-check under it keep two executors from taking one.
            select c.id from pgshell.commands c
            where c.id in (select min(h.id) from pgshell.commands h
                           where h.status in ('queued', 'running') group by h.session_id)
              and (c.status = 'queued' or (c.status = 'running' and c.lease_expires_at < now()))
            order by c.id
            limit p_limit
            for update of c skip locked
        ), claimed as (
            update pgshell.commands c
            set status = 'running', claimed_by = p_executor, claim_token = gen_random_uuid(),
                attempt = c.attempt + 1, lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0),
                started_at = now()
            from picked where c.id = picked.id
            returning c.*
        )
        select cl.id, cl.session_id, cl.seq, cl.line, cl.attempt, cl.claim_token,
               cl.env_before, s.head_env, u.name, cl.random_seed, cl.clock_base_ns,
               s.limits, cl.cancel_requested
        from claimed cl
        join pgshell.sessions s on s.id = cl.session_id
        join pgshell.users u on u.id = s.owner_id
        order by cl.id
    loop
        -- Who took it, and whether it was rescued from an executor whose lease expired.
        perform pgshell.audit(case when r.attempt > 1 then 'command.rescued' else 'command.claimed' end,
            r.session_id, r.id, jsonb_build_object('executor', p_executor, 'attempt', r.attempt));
        id := r.id; session_id := r.session_id; seq := r.seq; line := r.line; attempt := r.attempt;
        claim_token := r.claim_token; env_before := r.env_before; head_env := r.head_env;
        owner_name := r.name; random_seed := r.random_seed; clock_base_ns := r.clock_base_ns;
        session_limits := r.limits; cancel_requested := r.cancel_requested;
        return next;
    end loop;
end $$;

-- Records a result. Accepted only from the holder of the current claim
-- (returns false otherwise, and changes nothing). Blobs and environments the
-- result refers to are stored in the same transaction.
create function pgshell.complete(
    p_id bigint, p_token uuid,
    p_status pgshell.command_status, p_outcome pgshell.command_outcome, p_exit_code int,
    p_stdout bytea, p_stderr bytea, p_stdout_lossy text, p_stderr_lossy text,
    p_stdout_truncated boolean, p_stderr_truncated boolean,
    p_fuel bigint, p_run_us bigint, p_error text,
    p_argv jsonb, p_program text, p_program_kind text, p_program_digest bytea, p_limits jsonb,
    p_blob_digests bytea[], p_blob_data bytea[],
    p_envs jsonb,             -- [{digest, cwd, vars, tree, file_count, tree_bytes}] (hex digests)
    p_env_before bytea, p_env_after bytea)
returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    select * into c from pgshell.commands where id = p_id for update;
    if not found or c.status <> 'running' or c.claim_token is distinct from p_token then
        return false;
    end if;

    insert into pgshell.blobs (digest, size, data)
    select d, length(b), b from unnest(p_blob_digests, p_blob_data) as t(d, b)
    on conflict (digest) do nothing;

    insert into pgshell.environments (digest, cwd, vars, tree, file_count, tree_bytes)
    select decode(e->>'digest', 'hex'), e->>'cwd', e->'vars', decode(e->>'tree', 'hex'),
           (e->>'file_count')::int, (e->>'tree_bytes')::bigint
    from jsonb_array_elements(coalesce(p_envs, '[]')) e
    on conflict (digest) do nothing;

    update pgshell.commands set
        status = p_status,
        outcome = case when p_status = 'done' then p_outcome end,
        exit_code = p_exit_code, stdout = p_stdout, stderr = p_stderr,
        stdout_lossy = p_stdout_lossy, stderr_lossy = p_stderr_lossy,
        stdout_truncated = p_stdout_truncated, stderr_truncated = p_stderr_truncated,
        fuel_consumed = p_fuel, run_us = p_run_us, error = p_error,
        argv = p_argv, program = p_program, program_kind = p_program_kind,
        program_digest = p_program_digest, limits = p_limits,
        env_before = p_env_before, env_after = p_env_after,
        finished_at = now(), claim_token = null, lease_expires_at = null
    where id = p_id;

    if p_env_after is not null then
        update pgshell.sessions set head_env = p_env_after where id = c.session_id;
    end if;
    -- The completion event vouches for the stored result: `audit verify`
    -- recomputes these digests from the row.
    if p_status = 'cancelled' then
        perform pgshell.audit('command.cancelled', c.session_id, p_id,
            jsonb_build_object('was', 'running', 'executor', c.claimed_by));
    else
        perform pgshell.audit('command.completed', c.session_id, p_id, jsonb_build_object(
            'outcome', p_outcome, 'exit_code', p_exit_code, 'executor', c.claimed_by,
            'attempt', c.attempt, 'fuel', p_fuel,
            'stdout_sha256', encode(sha256(coalesce(p_stdout, '')), 'hex'),
            'stderr_sha256', encode(sha256(coalesce(p_stderr, '')), 'hex'),
            'env_before', encode(p_env_before, 'hex'),
            'env_after', encode(p_env_after, 'hex'),
            'program_digest', encode(p_program_digest, 'hex')));
    end if;
    perform pg_notify('pg_shell_done', c.session_id::text || ' ' || p_id::text);
    return true;
end $$;

-- ---------------------------------------------------------------------------
-- Row-level security: direct reads by the end-user roles see only their own
-- rows (defense in depth; the API functions check the caller explicitly).
-- ---------------------------------------------------------------------------
alter table pgshell.sessions enable row level security;
alter table pgshell.commands enable row level security;
create function pgshell.caller_id_or_null() returns bigint
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select id from pgshell.users where name = pgshell.caller_name() and not disabled
$$;
create function pgshell.caller_sees_all() returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce((select role in ('auditor', 'admin') from pgshell.users
                     where name = pgshell.caller_name() and not disabled), false)
$$;
create policy sessions_visible on pgshell.sessions for select
    using (owner_id = pgshell.caller_id_or_null() or pgshell.caller_sees_all());
create policy commands_visible on pgshell.commands for select
    using (exists (select 1 from pgshell.sessions s where s.id = commands.session_id));

-- ---------------------------------------------------------------------------
-- Privileges (roles come from sql/roles.sql). Functions are executable by
-- PUBLIC by default in PostgreSQL: revoke that first, then grant precisely.
-- ---------------------------------------------------------------------------
revoke all on schema pgshell, api from public;
revoke execute on all functions in schema pgshell, api from public;

grant usage on schema api to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on all functions in schema api to pgshell_user, pgshell_auditor, pgshell_admin;

grant usage on schema pgshell to pgshell_executor, pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on function pgshell.claim(text, int, int), pgshell.complete(bigint, uuid, pgshell.command_status,
    pgshell.command_outcome, int, bytea, bytea, text, text, boolean, boolean, bigint, bigint, text, jsonb, text,
    text, bytea, jsonb, bytea[], bytea[], jsonb, bytea, bytea),
    pgshell.heartbeat(text, int), pgshell.register_executor(text, text, int, text, int),
    pgshell.stop_executor(text), pgshell.setting(text)
    to pgshell_executor;
grant select on pgshell.blobs, pgshell.environments, pgshell.programs, pgshell.settings
    to pgshell_executor;
-- Executors read the record (history, replays) but change it only through
-- the functions above; row-level security lets them see every session.
grant select on pgshell.commands, pgshell.sessions, pgshell.executors to pgshell_executor;
grant select (id, name) on pgshell.users to pgshell_executor;
create policy commands_executor on pgshell.commands for select to pgshell_executor using (true);
create policy sessions_executor on pgshell.sessions for select to pgshell_executor using (true);

-- Direct reads by end users go through row-level security.
grant execute on function pgshell.caller_id_or_null(), pgshell.caller_sees_all(), pgshell.caller_name()
    to pgshell_user, pgshell_auditor, pgshell_admin, pgshell_executor;
grant select on pgshell.sessions, pgshell.commands to pgshell_user, pgshell_auditor, pgshell_admin;
