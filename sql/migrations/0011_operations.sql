-- 0011_operations: the cleanup pass (dead executors on any host, idle
-- sessions, retention with holds), one rule for handing back a command, and
-- metrics read from SQL so every client sees the same numbers.

insert into pgshell.settings (name, value, description) values
    ('executor_dead_after_ms', '10000',
     'an executor whose heartbeat is older than this is judged dead by the cleanup pass and what it held is handed back'),
    ('session_idle_days', '7',
     'open sessions with no command for this many days are closed by the cleanup pass (the owner can reopen them; null: never)');

-- A native program may have done something outside pg_shell (the network,
-- a host view); running its command again could do it twice. Commands mark
-- when such a program started, and a command so marked is never re-run by a
-- rescue unless the operator said the program is safe to retry.
alter table pgshell.programs add column retry_safe boolean not null default false;
comment on column pgshell.programs.retry_safe is
    'a command that started this native program may be run again after its executor died (otherwise it is recorded as lost)';
alter table pgshell.commands add column retry_unsafe boolean not null default false;
comment on column pgshell.commands.retry_unsafe is
    'a native program not marked retry_safe started in this attempt: a rescue records the command as lost instead of re-running it';

-- A hold keeps a session from retention (set by an admin or an auditor).
alter table pgshell.sessions add column held boolean not null default false;

create or replace function pgshell.session_snapshot(s pgshell.sessions) returns jsonb
language sql stable as $$
    select jsonb_strip_nulls(jsonb_build_object(
        'owner', s.owner_id,
        'owner_name', (select u.name from pgshell.users u where u.id = s.owner_id),
        'title', s.title,
        'created_at', pgshell.micros(s.created_at),
        'closed_at', pgshell.micros(s.closed_at),
        'held', nullif(s.held, false)))
$$;

-- The executor calls this before it starts a native program in a live run.
create function pgshell.native_started(p_id bigint, p_token uuid, p_program text) returns void
language sql security definer set search_path = pg_catalog, pg_temp as $$
    update pgshell.commands set retry_unsafe = true
    where id = p_id and claim_token = p_token and status = 'running' and not retry_unsafe
      and not coalesce((select p.retry_safe from pgshell.programs p where p.name = p_program and p.kind = 'native'), false);
$$;

-- The one rule for a running command whose executor is gone (stopped,
-- judged dead, or its lease expired): queued again for another attempt,
-- unless it reached max_attempts or a native program that is not
-- retry-safe started in it; then recorded as lost. Audited either way.
create function pgshell.hand_back(c pgshell.commands, p_reason text) returns text
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare max_attempts int := pgshell.setting('max_attempts')::int;
begin
    if c.retry_unsafe or c.attempt >= max_attempts then
        update pgshell.commands
        set status = 'done', outcome = 'lost', exit_code = 137, finished_at = now(),
            error = case when c.retry_unsafe
                then format('executor %s was lost (%s) while a native program not marked retry-safe ran; not run again', c.claimed_by, p_reason)
                else format('executor lost the command %s times (last holder %s: %s)', c.attempt, c.claimed_by, p_reason) end,
            claim_token = null, lease_expires_at = null,
            stdout = coalesce(stdout, ''), stderr = coalesce(stderr, ''), env_after = env_before
        where id = c.id;
        perform pgshell.audit('command.lost', c.session_id, c.id,
            jsonb_build_object('executor', c.claimed_by, 'reason', p_reason, 'attempt', c.attempt, 'retry_unsafe', c.retry_unsafe));
        perform pg_notify('pg_shell_done', c.session_id::text || ' ' || c.id::text);
        return 'lost';
    end if;
    update pgshell.commands set status = 'queued', claimed_by = null, claim_token = null, lease_expires_at = null
    where id = c.id;
    perform pgshell.audit('command.released', c.session_id, c.id,
        jsonb_build_object('executor', c.claimed_by, 'reason', p_reason, 'attempt', c.attempt));
    perform pg_notify('pg_shell_queue', c.session_id::text);
    return 'released';
end $$;

create or replace function pgshell.stop_executor(p_executor text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    update pgshell.executors set stopped_at = now() where id = p_executor and stopped_at is null;
    -- Hand back what it held at once instead of waiting for the lease to expire.
    for c in select * from pgshell.commands where claimed_by = p_executor and status = 'running' for update skip locked loop
        perform pgshell.hand_back(c, 'executor stopped');
    end loop;
end $$;

-- A live executor beats; one judged dead by mistake (a long pause) comes
-- back by beating again (what it held was handed back; its completions are
-- refused by the claim token).
create or replace function pgshell.heartbeat(p_executor text, p_lease_ms int) returns setof bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    update pgshell.executors set heartbeat_at = now(), stopped_at = null where id = p_executor;
    return query
        update pgshell.commands set lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
        where claimed_by = p_executor and status = 'running'
        returning (case when cancel_requested then id end);
end $$;

-- Claims as 0001 did; a command whose lease expired goes through hand_back
-- first (so it is re-queued or recorded lost by the one rule).
create or replace function pgshell.claim(p_executor text, p_lease_ms int, p_limit int)
returns table (
    id bigint, session_id uuid, seq int, line text, attempt int, claim_token uuid,
    env_before bytea, head_env bytea, owner_name text, random_seed bytea, clock_base_ns bigint,
    session_limits jsonb, cancel_requested boolean)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare expired pgshell.commands; r record;
begin
    for expired in
        select * from pgshell.commands c
        where c.status = 'running' and c.lease_expires_at < now()
        order by c.id limit 100
        for update skip locked
    loop
        perform pgshell.hand_back(expired, 'lease expired');
    end loop;

    for r in
        with picked as (
            -- The head of each session (its oldest unfinished command), if it
            -- is waiting. Heads only move forward, so a head seen in this
            -- snapshot is safe to take; the row lock and the status re-check
            -- under it keep two executors from taking one.
            select c.id from pgshell.commands c
            where c.id in (select min(h.id) from pgshell.commands h
                           where h.status in ('queued', 'running') group by h.session_id)
              and c.status = 'queued'
            order by c.id
            limit p_limit
            for update of c skip locked
        ), claimed as (
            update pgshell.commands c
            set status = 'running', claimed_by = p_executor, claim_token = gen_random_uuid(),
                attempt = c.attempt + 1, lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0),
                started_at = now(), retry_unsafe = false
            from picked where c.id = picked.id and c.status = 'queued'
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
        -- Who took it, and whether it is a later attempt (a rescue).
        perform pgshell.audit(case when r.attempt > 1 then 'command.rescued' else 'command.claimed' end,
            r.session_id, r.id, jsonb_build_object('executor', p_executor, 'attempt', r.attempt));
        id := r.id; session_id := r.session_id; seq := r.seq; line := r.line; attempt := r.attempt;
        claim_token := r.claim_token; env_before := r.env_before; head_env := r.head_env;
        owner_name := r.name; random_seed := r.random_seed; clock_base_ns := r.clock_base_ns;
        session_limits := r.limits; cancel_requested := r.cancel_requested;
        return next;
    end loop;
end $$;

-- Retention as 0010, except that held sessions are kept.
create or replace function pgshell.retention_sweep(p_limit int default 100) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare days numeric := (pgshell.setting('retention_days') #>> '{}')::numeric; s record; n int := 0;
begin
    if days is null or days <= 0 then
        return 0;
    end if;
    for s in
        select ss.id, ss.closed_at, ss.next_seq from pgshell.sessions ss
        where ss.closed_at < now() - make_interval(secs => days * 86400)
          and not ss.held
          and not exists (select 1 from pgshell.commands c where c.session_id = ss.id and c.status in ('queued', 'running'))
          and not exists (select 1 from pgshell.replays r where r.session_id = ss.id and r.status in ('queued', 'running'))
        order by ss.closed_at, ss.id
        limit p_limit
        for update skip locked
    loop
        perform pgshell.audit('session.deleted', s.id, null, jsonb_build_object(
            'reason', 'retention', 'retention_days', days, 'commands', s.next_seq,
            'commands_sha256', (select encode(sha256(convert_to(coalesce(string_agg(
                    (pgshell.command_snapshot(c))::text, E'\n' order by c.seq), ''), 'UTF8')), 'hex')
                from pgshell.commands c where c.session_id = s.id)));
        delete from pgshell.replays where session_id = s.id;
        delete from pgshell.commands where session_id = s.id;
        delete from pgshell.sessions where id = s.id;
        perform pgshell.audit_anchor(s.id::text);
        n := n + 1;
    end loop;
    return n;
end $$;

-- One cleanup pass, in bounded batches, safe to run from several machines
-- at once (rows are taken with SKIP LOCKED). Returns what it did.
create function pgshell.cleanup_pass(p_limit int default 100) returns jsonb
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    dead_after numeric := coalesce((pgshell.setting('executor_dead_after_ms') #>> '{}')::numeric, 10000);
    idle_days numeric := (pgshell.setting('session_idle_days') #>> '{}')::numeric;
    e record; held pgshell.commands; s record;
    n_dead int := 0; n_released int := 0; n_lost int := 0; n_idle int := 0; n_deleted int;
begin
    for e in
        select x.id, x.heartbeat_at from pgshell.executors x
        where x.stopped_at is null and x.heartbeat_at < now() - make_interval(secs => dead_after / 1000.0)
        order by x.heartbeat_at limit p_limit
        for update skip locked
    loop
        update pgshell.executors set stopped_at = now() where id = e.id;
        perform pgshell.audit('executor.dead', null, null, jsonb_build_object(
            'executor', e.id, 'last_heartbeat_ms_ago', round(extract(epoch from now() - e.heartbeat_at) * 1000)));
        n_dead := n_dead + 1;
        for held in select * from pgshell.commands where claimed_by = e.id and status = 'running' for update skip locked loop
            if pgshell.hand_back(held, 'executor judged dead: no heartbeat') = 'lost' then
                n_lost := n_lost + 1;
            else
                n_released := n_released + 1;
            end if;
        end loop;
    end loop;

    if idle_days is not null and idle_days > 0 then
        for s in
            select ss.id from pgshell.sessions ss
            where ss.closed_at is null
              and greatest(ss.created_at, (select max(c.submitted_at) from pgshell.commands c where c.session_id = ss.id))
                  < now() - make_interval(secs => idle_days * 86400)
              and not exists (select 1 from pgshell.commands c where c.session_id = ss.id and c.status in ('queued', 'running'))
            order by ss.created_at limit p_limit
            for update skip locked
        loop
            update pgshell.sessions set closed_at = now() where id = s.id;
            perform pgshell.audit('session.closed', s.id, null, jsonb_build_object('reason', 'idle', 'idle_days', idle_days));
            perform pgshell.audit_anchor(s.id::text);
            n_idle := n_idle + 1;
        end loop;
    end if;

    n_deleted := pgshell.retention_sweep(p_limit);
    return jsonb_build_object('dead_executors', n_dead, 'released', n_released, 'lost', n_lost,
                              'idle_closed', n_idle, 'retention_deleted', n_deleted);
end $$;

-- The owner reopens a closed session (an idle one, or one they closed).
create function api.reopen_session(session_id uuid) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.owned_session(session_id);
begin
    if s.closed_at is null then
        return;
    end if;
    update pgshell.sessions set closed_at = null where id = s.id;
    perform pgshell.audit('session.reopened', s.id, null, '{}');
end $$;

-- An admin or auditor holds a session (kept from retention) or lets it go.
create function api.hold_session(session_id uuid, held boolean default true) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.readable_session(session_id);
begin
    if not pgshell.caller_sees_all() then
        raise exception 'only an admin or an auditor may hold a session' using errcode = '42501';
    end if;
    if s.held is distinct from hold_session.held then
        update pgshell.sessions set held = hold_session.held where id = s.id;
        perform pgshell.audit(case when hold_session.held then 'session.held' else 'session.released' end, s.id, null, '{}');
    end if;
end $$;

-- ---------------------------------------------------------------------------
-- Metrics: one row per metric and label set (names as `pg_shell monitor`
-- and /metrics print them, without the pg_shell_ prefix).
-- ---------------------------------------------------------------------------
create function pgshell.metrics(p_window interval default interval '1 hour')
returns table (name text, labels jsonb, value double precision)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    with recent as (
        select c.*, u.name as owner_name,
               extract(epoch from (c.started_at - c.submitted_at)) as wait_s,
               c.run_us / 1e6 as run_s
        from pgshell.commands c
        join pgshell.sessions s on s.id = c.session_id
        join pgshell.users u on u.id = s.owner_id
        where c.status = 'done' and c.finished_at > now() - p_window
    )
    select 'commands_total', jsonb_build_object('outcome', outcome::text), count(*)::float8
        from recent group by outcome
    union all
    select 'commands_by_program_total', jsonb_build_object('program', coalesce(program, '')), count(*)::float8
        from recent group by program
    union all
    select r.metric, jsonb_build_object('stat', st.stat), st.v
        from (select d.metric, avg(d.s) as avg, percentile_cont(0.5) within group (order by d.s) as p50,
                     percentile_cont(0.95) within group (order by d.s) as p95
              from (select 'command_run_seconds' as metric, run_s as s from recent
                    union all select 'command_queue_wait_seconds', wait_s from recent) d
              where d.s is not null group by d.metric) r,
             lateral (values ('avg', r.avg), ('p50', r.p50), ('p95', r.p95)) as st(stat, v)
    union all
    select 'queue_depth', '{}'::jsonb, (select count(*) from pgshell.commands where status = 'queued')::float8
    union all
    select 'queue_oldest_seconds', '{}'::jsonb,
        coalesce((select extract(epoch from now() - min(submitted_at)) from pgshell.commands where status = 'queued'), 0)::float8
    union all
    select 'commands_running', '{}'::jsonb, (select count(*) from pgshell.commands where status = 'running')::float8
    union all
    select 'executors_active', '{}'::jsonb, (select count(*) from pgshell.executors where stopped_at is null)::float8
    union all
    select 'executor_load', jsonb_build_object('executor', x.id),
        (select count(*) from pgshell.commands c where c.claimed_by = x.id and c.status = 'running')::float8 / greatest(x.concurrency, 1)
        from pgshell.executors x where x.stopped_at is null
    union all
    select 'user_fuel_total', jsonb_build_object('user', owner_name), coalesce(sum(fuel_consumed), 0)::float8
        from recent group by owner_name
    union all
    select 'user_run_seconds_total', jsonb_build_object('user', owner_name), coalesce(sum(run_s), 0)::float8
        from recent group by owner_name
    union all
    select 'replays_total', jsonb_build_object('verdict', coalesce(r.verdict, r.status::text)), count(*)::float8
        from pgshell.replays r where coalesce(r.finished_at, r.requested_at) > now() - p_window
        group by coalesce(r.verdict, r.status::text)
$$;

revoke execute on function pgshell.native_started(bigint, uuid, text), pgshell.hand_back(pgshell.commands, text),
    pgshell.cleanup_pass(int), pgshell.metrics(interval) from public;
grant execute on function pgshell.native_started(bigint, uuid, text), pgshell.cleanup_pass(int), pgshell.metrics(interval)
    to pgshell_executor;
grant execute on function pgshell.metrics(interval) to pgshell_admin, pgshell_auditor;
grant execute on function api.reopen_session(uuid), api.hold_session(uuid, boolean)
    to pgshell_user, pgshell_auditor, pgshell_admin;
