-- 0002_replay_audit: a hash-chained audit log, replays, forks and exports.
--
-- Audit chains: every row belongs to a chain (its session id, or 'global' for
-- events outside sessions) and stores sha256(canonical content || previous
-- row's hash). One chain per session keeps unrelated sessions from queueing on
-- one head row; the session heads are anchored into the global chain by
-- `audit.anchor` events (at session close, and by the executor's maintenance
-- pass), so even a deleted tail of a session chain is detected once anchored.

alter table pgshell.audit_log
    add column chain     text,
    add column seq       bigint,
    add column prev_hash bytea,
    add column hash      bytea;

create table pgshell.audit_heads (
    chain         text primary key,
    seq           bigint not null,
    hash          bytea not null,
    anchored_seq  bigint not null default 0   -- last seq recorded in a global anchor
);

-- The canonical content of a row, hashed. Timestamps as integer microseconds
-- and jsonb's own text form (keys sorted by jsonb), so the text never depends
-- on session settings such as TimeZone or DateStyle.
create function pgshell.audit_row_hash(
    p_id bigint, p_chain text, p_seq bigint, p_at timestamptz, p_actor text, p_event text,
    p_session uuid, p_command bigint, p_details jsonb, p_prev bytea)
returns bytea language sql immutable as $$
    select sha256(convert_to(concat_ws(chr(31),
        p_id::text, p_chain, p_seq::text,
        (extract(epoch from p_at) * 1000000)::bigint::text,
        p_actor, p_event, coalesce(p_session::text, ''), coalesce(p_command::text, ''),
        p_details::text, encode(p_prev, 'hex')), 'UTF8'))
$$;

create function pgshell.audit_chain_row() returns trigger
language plpgsql as $$
declare h pgshell.audit_heads;
begin
    new.chain := coalesce(new.session_id::text, 'global');
    insert into pgshell.audit_heads (chain, seq, hash) values (new.chain, 0, '\x') on conflict (chain) do nothing;
    select * into h from pgshell.audit_heads where chain = new.chain for update;
    new.seq := h.seq + 1;
    new.prev_hash := h.hash;
    new.hash := pgshell.audit_row_hash(new.id, new.chain, new.seq, new.at, new.actor, new.event,
                                       new.session_id, new.command_id, new.details, new.prev_hash);
    update pgshell.audit_heads set seq = new.seq, hash = new.hash where chain = new.chain;
    return new;
end $$;

-- Rows written before this migration join their chains in id order.
do $$
declare r record; h pgshell.audit_heads; c text; s bigint; p bytea; x bytea;
begin
    alter table pgshell.audit_log disable trigger audit_log_append_only;
    for r in select * from pgshell.audit_log order by id loop
        c := coalesce(r.session_id::text, 'global');
        insert into pgshell.audit_heads (chain, seq, hash) values (c, 0, '\x') on conflict (chain) do nothing;
        select * into h from pgshell.audit_heads where chain = c;
        s := h.seq + 1; p := h.hash;
        x := pgshell.audit_row_hash(r.id, c, s, r.at, r.actor, r.event, r.session_id, r.command_id, r.details, p);
        update pgshell.audit_log set chain = c, seq = s, prev_hash = p, hash = x where id = r.id;
        update pgshell.audit_heads set seq = s, hash = x where chain = c;
    end loop;
    alter table pgshell.audit_log enable trigger audit_log_append_only;
end $$;

alter table pgshell.audit_log
    alter column chain set not null, alter column seq set not null,
    alter column prev_hash set not null, alter column hash set not null,
    add constraint audit_log_chain_seq_key unique (chain, seq);

create trigger audit_log_chain before insert on pgshell.audit_log
    for each row execute function pgshell.audit_chain_row();

revoke all on pgshell.audit_log, pgshell.audit_heads from public;

-- Records the current head of every session chain that moved since its last
-- anchor in one global `audit.anchor` row. Returns the number of chains anchored.
create function pgshell.audit_anchor(p_chain text default null) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare heads jsonb; n int;
begin
    select jsonb_object_agg(chain, jsonb_build_object('seq', seq, 'hash', encode(hash, 'hex'))), count(*)
    into heads, n
    from (select chain, seq, hash from pgshell.audit_heads
          where chain <> 'global' and seq > anchored_seq and (p_chain is null or chain = p_chain)
          order by chain for update) h;
    if n = 0 then
        return 0;
    end if;
    insert into pgshell.audit_log (actor, event, details)
    values (coalesce(pgshell.caller_name(), session_user::text), 'audit.anchor', jsonb_build_object('heads', heads));
    update pgshell.audit_heads h set anchored_seq = (heads -> h.chain ->> 'seq')::bigint
    where heads ? h.chain;
    return n;
end $$;

-- Every inconsistency in the audit trail and in what it vouches for, first
-- one first. Empty when everything verifies.
create function pgshell.audit_problems(p_limit int default 100)
returns table (audit_id bigint, chain text, seq bigint, problem text)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
with rows as (
    select a.*,
           lag(a.hash) over w as expected_prev,
           lag(a.seq) over w as prev_seq,
           pgshell.audit_row_hash(a.id, a.chain, a.seq, a.at, a.actor, a.event, a.session_id,
                                  a.command_id, a.details, a.prev_hash) as recomputed
    from pgshell.audit_log a
    window w as (partition by a.chain order by a.seq)
), problems as (
    select id, chain, seq, 'row content does not match its hash (altered)' as problem from rows
    where recomputed <> hash
    union all
    select id, chain, seq, format('row %s of chain %s follows row %s: rows are missing or reordered',
                                  seq, chain, coalesce(prev_seq, 0)) from rows
    where seq <> coalesce(prev_seq, 0) + 1
    union all
    select id, chain, seq, 'link to the previous row is broken (a row was altered, removed or reordered)' from rows
    where prev_hash <> coalesce(expected_prev, '\x'::bytea) and seq = coalesce(prev_seq, 0) + 1
    union all
    select null, h.chain, h.seq, format('chain %s ends at row %s but its head says %s: rows were removed',
                                        h.chain, coalesce(m.max_seq, 0), h.seq)
    from pgshell.audit_heads h
    left join (select r.chain, max(r.seq) max_seq from rows r group by r.chain) m on m.chain = h.chain
    where coalesce(m.max_seq, 0) <> h.seq
    union all
    select r.id, r.chain, r.seq,
           format('anchor records row %s of chain %s, which is missing or differs', x.value ->> 'seq', x.key)
    from rows r cross join lateral jsonb_each(r.details -> 'heads') x
    where r.event = 'audit.anchor' and not exists (
        select 1 from pgshell.audit_log t
        where t.chain = x.key and t.seq = (x.value ->> 'seq')::bigint and encode(t.hash, 'hex') = x.value ->> 'hash')
    union all
    select r.id, r.chain, r.seq, format('stored result of command %s differs from its completion record', r.command_id)
    from rows r left join pgshell.commands c on c.id = r.command_id
    where r.event = 'command.completed' and r.details ? 'stdout_sha256' and (
        c.id is null
        or encode(sha256(coalesce(c.stdout, '')), 'hex') is distinct from r.details ->> 'stdout_sha256'
        or encode(sha256(coalesce(c.stderr, '')), 'hex') is distinct from r.details ->> 'stderr_sha256'
        or c.exit_code is distinct from (r.details ->> 'exit_code')::int
        or c.outcome::text is distinct from r.details ->> 'outcome'
        or encode(c.env_after, 'hex') is distinct from r.details ->> 'env_after'
        or encode(c.env_before, 'hex') is distinct from r.details ->> 'env_before')
    union all
    select null, null, null, format('blob %s does not match its digest (file contents altered)', encode(b.digest, 'hex'))
    from pgshell.blobs b where sha256(b.data) <> b.digest
)
select p.id, p.chain, p.seq, p.problem from problems p order by p.id nulls last, p.chain, p.seq limit p_limit
$$;

-- ---------------------------------------------------------------------------
-- Replays
-- ---------------------------------------------------------------------------
create type pgshell.replay_status as enum ('queued', 'running', 'done');

create table pgshell.replays (
    id               bigint generated always as identity primary key,
    session_id       uuid not null references pgshell.sessions (id),
    requested_by     text not null,
    requested_at     timestamptz not null default now(),
    from_seq         integer,
    to_seq           integer,
    status           pgshell.replay_status not null default 'queued',
    claimed_by       text,
    lease_expires_at timestamptz,
    verdict          text,                 -- verified | diverged | error
    commands         integer,              -- commands re-executed
    verified         integer,
    first_divergence jsonb,                -- {command_id, seq, line, field, recorded, replayed, diff}
    results          jsonb,                -- per-command verdicts
    error            text,
    finished_at      timestamptz,
    constraint replays_verdict check (verdict in ('verified', 'diverged', 'error')),
    constraint replays_done_has_verdict check ((status = 'done') = (verdict is not null))
);
create index replays_pending_idx on pgshell.replays (id) where status in ('queued', 'running');

create function pgshell.replay_json(r pgshell.replays) returns json
language sql stable as $$
    select json_build_object(
        'id', r.id, 'session_id', r.session_id, 'requested_by', r.requested_by,
        'requested_at', r.requested_at, 'status', r.status, 'verdict', r.verdict,
        'commands', r.commands, 'verified', r.verified, 'first_divergence', r.first_divergence,
        'results', r.results, 'error', r.error, 'finished_at', r.finished_at)
$$;

create function api.request_replay(session_id uuid) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.readable_session(session_id); v_id bigint;
begin
    insert into pgshell.replays (session_id, requested_by) values (s.id, pgshell.caller_name())
    returning id into v_id;
    perform pgshell.audit('replay.requested', s.id, null, jsonb_build_object('replay_id', v_id));
    perform pg_notify('pg_shell_replay', v_id::text);
    return v_id;
end $$;

create function api.replay(id bigint) returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare r pgshell.replays;
begin
    select * into r from pgshell.replays where replays.id = replay.id;
    if not found then
        raise exception 'replay % not found', replay.id using errcode = '42501';
    end if;
    perform pgshell.readable_session(r.session_id);
    return pgshell.replay_json(r);
end $$;

create function api.replays(session_id uuid) returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pgshell.readable_session(replays.session_id);
    return query select pgshell.replay_json(r) from pgshell.replays r
                 where r.session_id = replays.session_id order by r.id desc;
end $$;

create function pgshell.claim_replay(p_executor text, p_lease_ms int) returns setof pgshell.replays
language sql security definer set search_path = pg_catalog, pg_temp as $$
    update pgshell.replays r
    set status = 'running', claimed_by = p_executor,
        lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
    where r.id = (select id from pgshell.replays
                  where status = 'queued' or (status = 'running' and lease_expires_at < now())
                  order by id limit 1 for update skip locked)
    returning r.*;
$$;

create function pgshell.finish_replay(p_id bigint, p_executor text, p_verdict text, p_commands int,
    p_verified int, p_first jsonb, p_results jsonb, p_error text) returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare r pgshell.replays;
begin
    update pgshell.replays set status = 'done', verdict = p_verdict, commands = p_commands,
        verified = p_verified, first_divergence = p_first, results = p_results, error = p_error,
        finished_at = now(), lease_expires_at = null
    where id = p_id and status = 'running' and claimed_by = p_executor
    returning * into r;
    if not found then
        return false;
    end if;
    perform pgshell.audit('replay.finished', r.session_id, null, jsonb_build_object(
        'replay_id', p_id, 'verdict', p_verdict, 'commands', p_commands, 'verified', p_verified,
        'first_divergence', p_first -> 'command_id'));
    perform pg_notify('pg_shell_replay_done', p_id::text);
    return true;
end $$;

-- ---------------------------------------------------------------------------
-- Forks
-- ---------------------------------------------------------------------------
create function api.fork_session(command_id bigint) returns uuid
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands; s pgshell.sessions; u pgshell.users := pgshell.caller(); v_id uuid;
begin
    select * into c from pgshell.commands where id = fork_session.command_id;
    if not found then
        raise exception 'command % not found', fork_session.command_id using errcode = '42501';
    end if;
    s := pgshell.readable_session(c.session_id);
    if u.role = 'auditor' then
        raise exception 'auditors cannot open sessions' using errcode = '42501';
    end if;
    if c.status <> 'done' or c.env_after is null then
        raise exception 'command % has no resulting environment to fork from', c.id using errcode = '55000';
    end if;
    insert into pgshell.sessions (owner_id, title, head_env)
    values (u.id, left(format('fork of %s at #%s', coalesce(s.title, s.id::text), c.seq), 200), c.env_after)
    returning id into v_id;
    perform pgshell.audit('session.forked', v_id, null, jsonb_build_object(
        'from_session', s.id, 'from_command', c.id, 'env', encode(c.env_after, 'hex')));
    return v_id;
end $$;

-- ---------------------------------------------------------------------------
-- Exports
-- ---------------------------------------------------------------------------
-- Schema "pg_shell.session.v1": the session and every command with all
-- recorded inputs and results (raw output bytes in base64 beside the text).
create function pgshell.export_json(p_session uuid) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object(
        'format', 'pg_shell.session.v1',
        'session', pgshell.session_json(s),
        'commands', coalesce((
            select json_agg(
                (pgshell.command_json(c)::jsonb || jsonb_build_object(
                    'random_seed', encode(c.random_seed, 'hex'),
                    'clock_base_ns', c.clock_base_ns,
                    'program_digest', encode(c.program_digest, 'hex'),
                    'limits', c.limits,
                    'stdout_base64', encode(c.stdout, 'base64'),
                    'stderr_base64', encode(c.stderr, 'base64')))::json
                order by c.seq)
            from pgshell.commands c where c.session_id = s.id), '[]'::json))
    from pgshell.sessions s where s.id = p_session
$$;

-- asciicast v2: a header line, then [time, "o", text] events: the prompt and
-- command line at submission, the output when it finished.
create function pgshell.export_asciicast(p_session uuid) returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    with s as (
        select s.*, u.name as owner from pgshell.sessions s join pgshell.users u on u.id = s.owner_id
        where s.id = p_session
    ), ev as (
        select c.seq, 0 as part,
               greatest(extract(epoch from (c.submitted_at - s.created_at)), 0)::float8 as t,
               format(E'%s:%s$ %s\r\n', s.owner, coalesce(
                   (select e.cwd from pgshell.environments e where e.digest = c.env_before), '/'), c.line) as text
        from pgshell.commands c, s where c.session_id = s.id
        union all
        select c.seq, 1,
               greatest(extract(epoch from (coalesce(c.finished_at, c.submitted_at) - s.created_at)), 0)::float8,
               replace(coalesce(c.stdout_lossy, convert_from(c.stdout, 'UTF8'), '')
                       || coalesce(c.stderr_lossy, convert_from(c.stderr, 'UTF8'), ''), E'\n', E'\r\n')
        from pgshell.commands c, s where c.session_id = s.id
    )
    select json_build_object('version', 2, 'width', 120, 'height', 40,
                             'timestamp', extract(epoch from s.created_at)::bigint,
                             'title', coalesce(s.title, 'pg_shell session ' || s.id::text),
                             'env', json_build_object('SHELL', 'pg_shell', 'TERM', 'xterm-256color'))::text
           || E'\n'
           || coalesce((select string_agg(json_build_array(round(max_t::numeric, 6), 'o', text)::text, E'\n' order by seq, part)
                        from (select seq, part, text,
                                     max(t) over (order by seq, part rows unbounded preceding) as max_t
                              from ev where text <> '') o), '')
           || E'\n'
    from s
$$;

create function api.export_json(session_id uuid) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pgshell.export_json((pgshell.readable_session(session_id)).id)
$$;

create function api.export_asciicast(session_id uuid) returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pgshell.export_asciicast((pgshell.readable_session(session_id)).id)
$$;

-- ---------------------------------------------------------------------------
-- Reading the audit log
-- ---------------------------------------------------------------------------
create function api.audit_log(session_id uuid default null, actor text default null, event text default null,
    since timestamptz default null, until timestamptz default null, lim integer default 200)
returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller();
begin
    if u.role = 'user' then
        if audit_log.session_id is null then
            raise exception 'only auditors and admins read the whole audit log' using errcode = '42501';
        end if;
        perform pgshell.readable_session(audit_log.session_id);
    end if;
    return query
        select json_build_object('id', a.id, 'at', a.at, 'actor', a.actor, 'event', a.event,
                                 'session_id', a.session_id, 'command_id', a.command_id, 'details', a.details,
                                 'chain', a.chain, 'seq', a.seq, 'hash', encode(a.hash, 'hex'))
        from pgshell.audit_log a
        where (audit_log.session_id is null or a.session_id = audit_log.session_id)
          and (audit_log.actor is null or a.actor = audit_log.actor)
          and (audit_log.event is null or a.event = audit_log.event)
          and (since is null or a.at >= since)
          and (until is null or a.at < until)
        order by a.id desc
        limit least(greatest(coalesce(lim, 200), 1), 10000);
end $$;

create function api.audit_verify() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); problems json; n bigint;
begin
    if u.role = 'user' then
        raise exception 'only auditors and admins verify the audit log' using errcode = '42501';
    end if;
    select json_agg(json_build_object('audit_id', p.audit_id, 'chain', p.chain, 'seq', p.seq, 'problem', p.problem)),
           count(*)
    into problems, n from pgshell.audit_problems(100) p;
    return json_build_object('ok', n = 0, 'rows', (select count(*) from pgshell.audit_log),
                             'problems', coalesce(problems, '[]'::json));
end $$;

-- Closing a session anchors its chain in the global one.
create or replace function api.close_session(session_id uuid) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.owned_session(session_id); n int;
begin
    if s.closed_at is not null then
        return;
    end if;
    update pgshell.sessions set closed_at = now() where id = s.id;
    update pgshell.commands set status = 'cancelled', finished_at = now()
    where commands.session_id = s.id and status = 'queued';
    get diagnostics n = row_count;
    update pgshell.commands set cancel_requested = true
    where commands.session_id = s.id and status = 'running';
    perform pgshell.audit('session.closed', s.id, null, jsonb_build_object('cancelled_queued', n));
    perform pgshell.audit_anchor(s.id::text);
end $$;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
revoke execute on all functions in schema pgshell, api from public;
grant execute on all functions in schema api to pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on function pgshell.claim(text, int, int), pgshell.claim_replay(text, int),
    pgshell.finish_replay(bigint, text, text, int, int, jsonb, jsonb, text),
    pgshell.audit_anchor(text), pgshell.complete(bigint, uuid, pgshell.command_status,
    pgshell.command_outcome, int, bytea, bytea, text, text, boolean, boolean, bigint, bigint, text, jsonb, text,
    text, bytea, jsonb, bytea[], bytea[], jsonb, bytea, bytea),
    pgshell.heartbeat(text, int), pgshell.register_executor(text, text, int, text, int),
    pgshell.stop_executor(text), pgshell.setting(text)
    to pgshell_executor;
grant select on pgshell.replays to pgshell_executor;
grant execute on function pgshell.caller_id_or_null(), pgshell.caller_sees_all(), pgshell.caller_name()
    to pgshell_user, pgshell_auditor, pgshell_admin, pgshell_executor;
