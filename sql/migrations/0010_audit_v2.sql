-- 0010_audit_v2: everything that defines a command, a session, an
-- environment or a user's role is covered by the audit chain, and another
-- user's object answers exactly as a missing one (issue 8, items 15 and 16).
--
-- Snapshots. The chain trigger (pgshell.audit_chain_row) no longer hashes
-- only what the caller wrote: an event about a command (command_id set)
-- carries `details.snapshot.command`, the command's defining fields as they
-- are at that moment (small values as they are, large ones as sha256), an
-- event `session.*` carries `details.snapshot.session` (owner, title, times)
-- and an event `user.*` naming a user carries `details.snapshot.user` (its
-- role). Every legitimate change of those fields is followed by such an event
-- in the same transaction, so `audit verify` compares each object with its
-- latest snapshot: whatever a superuser changed afterwards shows field by
-- field. Taking the snapshot in the trigger means every function that writes
-- an event (today's and tomorrow's) is covered without knowing about it.
--
-- Output text is derived from the bytes at read time (pgshell.utf8_lossy)
-- instead of being stored beside them, so there is no second copy to forge.
--
-- Retention (setting `retention_days`, off by default) deletes closed
-- sessions; each deletion first appends a `session.deleted` tombstone to the
-- session's chain, which verify accepts as the reason its rows are gone.

-- ---------------------------------------------------------------------------
-- Item 15: one answer for "not yours" and "not there", with no id in it.
-- ---------------------------------------------------------------------------
create or replace function pgshell.readable_session(p_session uuid) returns pgshell.sessions
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); s pgshell.sessions;
begin
    select * into s from pgshell.sessions where id = p_session;
    if not found or (s.owner_id <> u.id and u.role = 'user') then
        raise exception 'session not found' using errcode = '42501';
    end if;
    return s;
end $$;

create or replace function pgshell.owned_session(p_session uuid) returns pgshell.sessions
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); s pgshell.sessions;
begin
    select * into s from pgshell.sessions where id = p_session and owner_id = u.id;
    if not found then
        raise exception 'session not found' using errcode = '42501';
    end if;
    return s;
end $$;

-- The command if the caller may read it (owner, auditor, admin), else the
-- same 42501 'command not found' as for an id that does not exist.
create function pgshell.readable_command(p_id bigint) returns pgshell.commands
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); c pgshell.commands;
begin
    select cm.* into c from pgshell.commands cm join pgshell.sessions s on s.id = cm.session_id
    where cm.id = p_id and (s.owner_id = u.id or u.role <> 'user');
    if not found then
        raise exception 'command not found' using errcode = '42501';
    end if;
    return c;
end $$;

-- The command, locked, if the caller owns its session (only owners act on commands).
create function pgshell.owned_command_for_update(p_id bigint) returns pgshell.commands
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); c pgshell.commands;
begin
    select cm.* into c from pgshell.commands cm
    where cm.id = p_id and exists (select 1 from pgshell.sessions s where s.id = cm.session_id and s.owner_id = u.id)
    for update of cm;
    if not found then
        raise exception 'command not found' using errcode = '42501';
    end if;
    return c;
end $$;

create or replace function api.command(id bigint) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pgshell.command_json(pgshell.readable_command(command.id))
$$;

create or replace function api.cancel(id bigint) returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands := pgshell.owned_command_for_update(cancel.id);
begin
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

create or replace function api.fork_session(command_id bigint) returns uuid
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    c pgshell.commands := pgshell.readable_command(fork_session.command_id);
    s pgshell.sessions;
    u pgshell.users := pgshell.caller();
    v_id uuid;
begin
    select * into s from pgshell.sessions where id = c.session_id;
    if u.role = 'auditor' then
        raise exception 'auditors cannot open sessions' using errcode = '42501';
    end if;
    if c.status <> 'done' or c.env_after is null then
        raise exception 'command % has no resulting environment to fork from', c.id using errcode = 'PT409';
    end if;
    insert into pgshell.sessions (owner_id, title, head_env)
    values (u.id, left(format('fork of %s at #%s', coalesce(s.title, s.id::text), c.seq), 200), c.env_after)
    returning id into v_id;
    perform pgshell.audit('session.forked', v_id, null, jsonb_build_object(
        'from_session', s.id, 'from_command', c.id, 'env', encode(c.env_after, 'hex')));
    return v_id;
end $$;

create or replace function api.replay(id bigint) returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); r pgshell.replays;
begin
    select rp.* into r from pgshell.replays rp join pgshell.sessions s on s.id = rp.session_id
    where rp.id = replay.id and (s.owner_id = u.id or u.role <> 'user');
    if not found then
        raise exception 'replay not found' using errcode = '42501';
    end if;
    return pgshell.replay_json(r);
end $$;

-- A closed session, a full session, a command with nothing to fork from
-- are the client's conflict, not the server's failure: SQLSTATE PT409 is
-- HTTP 409 in PostgREST (55000 and 54000 are 500 there).
create or replace function api.submit(session_id uuid, line text) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    max_bytes int := pgshell.setting('max_line_bytes')::int;
    max_cmds int := pgshell.setting('max_commands_per_session')::int;
    v_seq int; v_id bigint;
begin
    if s.closed_at is not null then
        raise exception 'session % is closed', s.id using errcode = 'PT409';
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
        raise exception 'session % holds the maximum of % commands', s.id, max_cmds using errcode = 'PT409';
    end if;
    insert into pgshell.commands (session_id, seq, line, submitted_by)
    values (s.id, v_seq, line, s.owner_id) returning id into v_id;
    perform pgshell.audit('command.submitted', s.id, v_id, json_build_object('line', line)::jsonb);
    perform pg_notify('pg_shell_queue', s.id::text);
    return v_id;
end $$;

-- 0003's ui_submit, refusing a line of a closed or full session (PT409) as
-- an error fragment too.
create or replace function api.ui_submit(session_id uuid, line text) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare v_id bigint;
begin
    perform pgshell.owned_session(session_id);
    if btrim(coalesce(line, '')) = '' then
        return '';
    end if;
    begin
        v_id := api.submit(session_id, line);
    exception when string_data_right_truncation or object_not_in_prerequisite_state
                   or program_limit_exceeded or null_value_not_allowed or sqlstate 'PT409' then
        return format('<div class="cmd st-refused"><div class="line"><span class="prompt">$</span> '
                      '<span class="text">%s</span></div><pre class="err">%s</pre></div>',
                      pgshell.html_escape(left(line, 200)), pgshell.html_escape(sqlerrm));
    end;
    return pgshell.ui_command(api.command(v_id), true);
end $$;

-- ---------------------------------------------------------------------------
-- Output text derived from the bytes
-- ---------------------------------------------------------------------------
-- The bytes as text when they are valid UTF-8 without NUL; else null.
create function pgshell.utf8_or_null(b bytea) returns text
language plpgsql stable strict parallel safe set search_path = pg_catalog, pg_temp as $$
begin
    return convert_from(b, 'UTF8');
exception when character_not_in_repertoire or untranslatable_character then
    return null;
end $$;

-- Exactly Rust's String::from_utf8_lossy with NUL also replaced (what the
-- executor showed before 0010): each maximal invalid subsequence (a byte
-- that starts no sequence, or the valid start of a sequence cut short) and
-- each NUL becomes one U+FFFD. Works on the hex form: one pass of a regular
-- expression that, at each character boundary, takes the longest run of
-- valid characters and then one invalid piece (or the end), marking the
-- piece with g...h; a second pass turns each marked piece into U+FFFD. Every
-- alternative consumes whole bytes, and the pattern matches at every
-- boundary, so a match never starts inside a byte. Cost: ~0.1 s per MiB of
-- text with a few bad bytes; ~2.5 s per MiB of random binary (one match per
-- invalid piece).
create function pgshell.utf8_lossy(b bytea) returns text
language plpgsql stable strict parallel safe set search_path = pg_catalog, pg_temp as $$
declare t text := pgshell.utf8_or_null(b); h text;
begin
    if t is not null then
        return t;
    end if;
    h := regexp_replace(encode(b, 'hex'),
        '((?:0[1-9a-f]|[1-7][0-9a-f]'                                    -- U+0001..U+007F
        '|(?:c[2-9a-f]|d[0-9a-f])[89ab][0-9a-f]'                         -- 2 bytes
        '|e0[ab][0-9a-f][89ab][0-9a-f]|e[1-9a-cef][89ab][0-9a-f][89ab][0-9a-f]|ed[89][0-9a-f][89ab][0-9a-f]' -- 3 bytes
        '|f0[9ab][0-9a-f][89ab][0-9a-f][89ab][0-9a-f]|f[1-3][89ab][0-9a-f][89ab][0-9a-f][89ab][0-9a-f]'
        '|f48[0-9a-f][89ab][0-9a-f][89ab][0-9a-f])*)'                   -- 4 bytes
        '((?:e0[ab][0-9a-f]|e[1-9a-cef][89ab][0-9a-f]|ed[89][0-9a-f]'    -- a sequence cut short
        '|f0[9ab][0-9a-f](?:[89ab][0-9a-f])?|f[1-3][89ab][0-9a-f](?:[89ab][0-9a-f])?|f48[0-9a-f](?:[89ab][0-9a-f])?'
        '|[0-9a-f]{2})|$)',                                              -- any other byte, or the end
        '\1g\2h', 'g');
    h := replace(regexp_replace(h, 'g[0-9a-f]+h', 'efbfbd', 'g'), 'gh', '');
    return convert_from(decode(h, 'hex'), 'UTF8');
end $$;

alter table pgshell.commands drop column stdout_lossy, drop column stderr_lossy;

create or replace function pgshell.command_json(c pgshell.commands) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select json_build_object(
        'id', c.id,
        'session_id', c.session_id,
        'seq', c.seq,
        'line', c.line,
        'status', c.status,
        'outcome', c.outcome,
        'exit_code', c.exit_code,
        'stdout', coalesce(o.out_text, pgshell.utf8_lossy(c.stdout)),
        'stderr', coalesce(o.err_text, pgshell.utf8_lossy(c.stderr)),
        'stdout_utf8', c.stdout is null or o.out_text is not null,
        'stderr_utf8', c.stderr is null or o.err_text is not null,
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
        'cancel_requested', c.cancel_requested,
        'limits', c.limits,
        'budget', pgshell.budget_json(c.limits, c.fuel_consumed),
        'plan', c.plan,
        'trace', c.trace)
    from (select pgshell.utf8_or_null(c.stdout) as out_text, pgshell.utf8_or_null(c.stderr) as err_text) o
$$;

create or replace function pgshell.export_asciicast(p_session uuid) returns text
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
               replace(coalesce(pgshell.utf8_lossy(c.stdout), '') || coalesce(pgshell.utf8_lossy(c.stderr), ''),
                       E'\n', E'\r\n')
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

-- 0006's complete_command without the stored lossy text (the executor still
-- sends stdout_lossy/stderr_lossy in p_result; they are ignored).
create or replace function pgshell.complete_command(
    p_id bigint, p_token uuid, p_result jsonb,
    p_stdout bytea, p_stderr bytea, p_blob_digests bytea[], p_blob_data bytea[])
returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    c pgshell.commands;
    r jsonb := p_result;
    v_status pgshell.command_status := (p_result ->> 'status')::pgshell.command_status;
    v_outcome pgshell.command_outcome := (p_result ->> 'outcome')::pgshell.command_outcome;
    v_env_before bytea := decode(p_result ->> 'env_before', 'hex');
    v_env_after bytea := decode(p_result ->> 'env_after', 'hex');
    v_digest bytea := decode(p_result ->> 'program_digest', 'hex');
begin
    select * into c from pgshell.commands where id = p_id for update;
    if not found or c.status <> 'running' or c.claim_token is distinct from p_token then
        delete from pgshell.blob_uploads where claim_token = p_token;
        return false;
    end if;

    insert into pgshell.blobs (digest, size, data)
    select d, length(b), b from unnest(p_blob_digests, p_blob_data) as t(d, b)
    on conflict (digest) do nothing;
    insert into pgshell.blobs (digest, size, data)
    select u.digest, length(u.data), u.data from pgshell.blob_uploads u where u.claim_token = p_token
    on conflict (digest) do nothing;
    delete from pgshell.blob_uploads where claim_token = p_token;

    insert into pgshell.tree_objects (digest, data)
    select decode(o.key, 'hex'), decode(o.value, 'base64')
    from jsonb_array_elements(coalesce(r -> 'envs', '[]')) e,
         jsonb_each_text(coalesce(e -> 'objects', '{}')) o
    on conflict (digest) do nothing;

    insert into pgshell.environments (digest, cwd, vars, shell, tree, root, file_count, tree_bytes)
    select decode(e->>'digest', 'hex'), e->>'cwd', e->'vars', coalesce(e->'shell', '{}'),
           decode(e->>'tree', 'hex'), decode(e->>'root', 'hex'),
           (e->>'file_count')::int, (e->>'tree_bytes')::bigint
    from jsonb_array_elements(coalesce(r -> 'envs', '[]')) e
    on conflict (digest) do nothing;

    update pgshell.commands set
        status = v_status,
        outcome = case when v_status = 'done' then v_outcome end,
        exit_code = (r ->> 'exit_code')::int, stdout = p_stdout, stderr = p_stderr,
        stdout_truncated = (r ->> 'stdout_truncated')::boolean,
        stderr_truncated = (r ->> 'stderr_truncated')::boolean,
        fuel_consumed = (r ->> 'fuel')::bigint, run_us = (r ->> 'run_us')::bigint, error = r ->> 'error',
        argv = r -> 'argv', program = r ->> 'program', program_kind = r ->> 'program_kind',
        program_digest = v_digest, limits = r -> 'limits',
        plan = nullif(r -> 'plan', 'null'::jsonb), trace = nullif(r -> 'trace', 'null'::jsonb),
        env_before = v_env_before, env_after = v_env_after,
        finished_at = now(), claim_token = null, lease_expires_at = null
    where id = p_id;

    if v_env_after is not null then
        update pgshell.sessions set head_env = v_env_after where id = c.session_id;
    end if;
    -- The completion event vouches for the stored result: the chain trigger
    -- adds the command's snapshot; the digests below are for readers.
    if v_status = 'cancelled' then
        perform pgshell.audit('command.cancelled', c.session_id, p_id,
            jsonb_build_object('was', 'running', 'executor', c.claimed_by));
    else
        perform pgshell.audit('command.completed', c.session_id, p_id, jsonb_build_object(
            'outcome', v_outcome, 'exit_code', (r ->> 'exit_code')::int, 'executor', c.claimed_by,
            'attempt', c.attempt, 'fuel', (r ->> 'fuel')::bigint,
            'stdout_sha256', encode(sha256(coalesce(p_stdout, '')), 'hex'),
            'stderr_sha256', encode(sha256(coalesce(p_stderr, '')), 'hex'),
            'env_before', encode(v_env_before, 'hex'),
            'env_after', encode(v_env_after, 'hex'),
            'program_digest', encode(v_digest, 'hex'),
            'plan_sha256', encode(sha256(convert_to(coalesce(r -> 'plan', 'null')::text, 'UTF8')), 'hex')));
    end if;
    perform pg_notify('pg_shell_done', c.session_id::text || ' ' || p_id::text);
    return true;
end $$;

-- Closing a session records each queued command it cancels (so each
-- command's latest snapshot is its final state), then anchors the chain.
create or replace function api.close_session(session_id uuid) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.owned_session(session_id); n int := 0; r record;
begin
    if s.closed_at is not null then
        return;
    end if;
    update pgshell.sessions set closed_at = now() where id = s.id;
    for r in
        update pgshell.commands set status = 'cancelled', finished_at = now()
        where commands.session_id = s.id and status = 'queued'
        returning id
    loop
        perform pgshell.audit('command.cancelled', s.id, r.id, '{"was": "queued", "by": "session.closed"}');
        n := n + 1;
    end loop;
    update pgshell.commands set cancel_requested = true
    where commands.session_id = s.id and status = 'running';
    perform pgshell.audit('session.closed', s.id, null, jsonb_build_object('cancelled_queued', n));
    perform pgshell.audit_anchor(s.id::text);
end $$;

-- ---------------------------------------------------------------------------
-- Canonical forms and snapshots
-- ---------------------------------------------------------------------------
-- serde_json's compact form of a JSON value with object keys in byte order:
-- what src/env.rs hashes (BTreeMaps, no spaces). PostgreSQL's string
-- escaping (json/jsonb text) is serde_json's: \" \\ \b \f \n \r \t, other
-- controls as \u00xx, everything else as it is.
create function pgshell.canonical_json(j jsonb) returns text
language sql stable parallel safe as $$
    select case jsonb_typeof(j)
        when 'object' then '{' || coalesce((
            select string_agg(to_json(e.key)::text || ':' || pgshell.canonical_json(e.value), ','
                              order by e.key collate "C")
            from jsonb_each(j) e), '') || '}'
        when 'array' then '[' || coalesce((
            select string_agg(pgshell.canonical_json(a.value), ',' order by a.n)
            from jsonb_array_elements(j) with ordinality a(value, n)), '') || ']'
        else j::text end
$$;

-- The digest an environment's content gives (Env::seal / seal_manifest):
-- sha256 of {"cwd","root"|"tree","shell" (when not empty),"vars"}.
create function pgshell.environment_digest(e pgshell.environments) returns bytea
language sql stable parallel safe as $$
    select sha256(convert_to(pgshell.canonical_json(
        jsonb_build_object('cwd', e.cwd, 'vars', e.vars)
        || case when e.root is not null then jsonb_build_object('root', encode(e.root, 'hex'))
                else jsonb_build_object('tree', encode(e.tree, 'hex')) end
        || case when e.shell is null or e.shell = '{}'::jsonb then '{}'::jsonb
                else jsonb_build_object('shell', e.shell) end), 'UTF8'))
$$;

-- (The small helpers below set no search_path and are as volatile as
-- what they call (convert_to and extract on timestamptz are stable), so
-- that they are inlined: verify calls them for every command.)
create function pgshell.sha256_hex(t text) returns text
language sql stable parallel safe as $$
    select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(t, 'UTF8')), 'hex')
$$;

create function pgshell.micros(t timestamptz) returns bigint
language sql stable parallel safe as $$
    select (extract(epoch from t) * 1000000)::bigint
$$;

-- What defines a command and what it produced, as recorded in the chain:
-- small values as they are, large ones as sha256 (jsonb in its own text
-- form, which is deterministic), null fields left out. Claim bookkeeping
-- (holder, token, lease) and cancel_requested are not part of it: they
-- change without an event of the command's own. (No security definer and
-- no search_path setting here and below: they read only their argument or
-- run inside the definer functions that call them, and a SET clause would
-- cost a configuration save and restore on every call; they name nothing a
-- caller's search_path could shadow before pg_catalog.)
create function pgshell.command_snapshot(c pgshell.commands) returns jsonb
language sql stable as $$
    select jsonb_strip_nulls(jsonb_build_object(
        'session', c.session_id,
        'seq', c.seq,
        'line', pgshell.sha256_hex(c.line),
        'submitted_by', c.submitted_by,
        'submitted_at', pgshell.micros(c.submitted_at),
        'random_seed', encode(c.random_seed, 'hex'),
        'clock_base_ns', c.clock_base_ns,
        'status', c.status,
        'attempt', c.attempt,
        'started_at', pgshell.micros(c.started_at),
        'argv', pgshell.sha256_hex(c.argv::text),
        'program', c.program,
        'program_kind', c.program_kind,
        'program_digest', encode(c.program_digest, 'hex'),
        'limits', pgshell.sha256_hex(c.limits::text),
        'plan', pgshell.sha256_hex(c.plan::text),
        'trace', pgshell.sha256_hex(c.trace::text),
        'env_before', encode(c.env_before, 'hex'),
        'env_after', encode(c.env_after, 'hex'),
        'outcome', c.outcome,
        'exit_code', c.exit_code,
        'stdout', encode(sha256(c.stdout), 'hex'),
        'stderr', encode(sha256(c.stderr), 'hex'),
        'stdout_truncated', c.stdout_truncated,
        'stderr_truncated', c.stderr_truncated,
        'fuel', c.fuel_consumed,
        'run_us', c.run_us,
        'error', pgshell.sha256_hex(c.error),
        'finished_at', pgshell.micros(c.finished_at)))
$$;

create function pgshell.session_snapshot(s pgshell.sessions) returns jsonb
language sql stable as $$
    select jsonb_strip_nulls(jsonb_build_object(
        'owner', s.owner_id,
        'owner_name', (select u.name from pgshell.users u where u.id = s.owner_id),
        'title', s.title,
        'created_at', pgshell.micros(s.created_at),
        'closed_at', pgshell.micros(s.closed_at)))
$$;

create function pgshell.user_snapshot(u pgshell.users) returns jsonb
language sql stable as $$
    select jsonb_build_object('id', u.id, 'role', u.role)
$$;

-- The chain trigger, now with snapshots (see the top of this file). A
-- `snapshot` key given by the caller is replaced: only the trigger writes it.
create or replace function pgshell.audit_chain_row() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare h pgshell.audit_heads; snap jsonb := '{}'; c pgshell.commands; s pgshell.sessions; u pgshell.users;
begin
    new.chain := coalesce(new.session_id::text, 'global');
    new.details := coalesce(new.details, '{}') - 'snapshot';
    if new.command_id is not null then
        select * into c from pgshell.commands where id = new.command_id;
        if found then
            snap := snap || jsonb_build_object('command', pgshell.command_snapshot(c));
        end if;
    end if;
    if new.session_id is not null and new.event like 'session.%' then
        select * into s from pgshell.sessions where id = new.session_id;
        if found then
            snap := snap || jsonb_build_object('session', pgshell.session_snapshot(s));
        end if;
    end if;
    if new.event like 'user.%' and jsonb_typeof(new.details -> 'user') = 'string' then
        select * into u from pgshell.users where name = new.details ->> 'user';
        if found then
            snap := snap || jsonb_build_object('user', pgshell.user_snapshot(u));
        end if;
    end if;
    if snap <> '{}' then
        new.details := new.details || jsonb_build_object('snapshot', snap);
    end if;
    insert into pgshell.audit_heads (chain, seq, hash) values (new.chain, 0, '\x') on conflict (chain) do nothing;
    select * into h from pgshell.audit_heads where chain = new.chain for update;
    new.seq := h.seq + 1;
    new.prev_hash := h.hash;
    new.hash := pgshell.audit_row_hash(new.id, new.chain, new.seq, new.at, new.actor, new.event,
                                       new.session_id, new.command_id, new.details, new.prev_hash);
    update pgshell.audit_heads set seq = new.seq, hash = new.hash where chain = new.chain;
    return new;
end $$;

-- ---------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------
insert into pgshell.settings (name, value, description) values
    ('retention_days', 'null',
     'closed sessions older than this many days are deleted by the maintenance pass, leaving a session.deleted '
     'tombstone in their audit chain (null: keep everything)')
on conflict (name) do nothing;

-- Deletes up to p_limit closed sessions past retention_days (their commands
-- and replays; environments and blobs stay, being shared). Each gets a
-- `session.deleted` tombstone first, anchored at once. Returns the count.
create function pgshell.retention_sweep(p_limit int default 100) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare days numeric := (pgshell.setting('retention_days') #>> '{}')::numeric; s record; n int := 0;
begin
    if days is null or days <= 0 then
        return 0;
    end if;
    for s in
        select ss.id, ss.closed_at, ss.next_seq from pgshell.sessions ss
        where ss.closed_at < now() - make_interval(secs => days * 86400)
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

-- ---------------------------------------------------------------------------
-- Verification
-- ---------------------------------------------------------------------------
-- Every inconsistency in the audit trail and in what it vouches for. kind is
-- one of: row_altered, row_missing, link_broken, head_mismatch,
-- anchor_mismatch (the chains); command_altered, command_missing,
-- command_unrecorded, session_altered, session_missing, session_unrecorded,
-- environment_altered, environment_missing, environment_chain, tree_object_missing, user_altered,
-- user_unrecorded, blob_altered, tree_object_altered (what they vouch for).
-- object names what is wrong ("command 12", "session <uuid>", "environment
-- <hex>", "user alice", "chain <name>"); field the altered field, if any.
drop function pgshell.audit_problems(int);
create function pgshell.audit_problems(p_limit int default 100)
returns table (audit_id bigint, chain text, seq bigint, kind text, object text, field text, problem text)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
with rows as (
    select a.*,
           lag(a.hash) over w as expected_prev,
           lag(a.seq) over w as prev_seq,
           pgshell.audit_row_hash(a.id, a.chain, a.seq, a.at, a.actor, a.event, a.session_id,
                                  a.command_id, a.details, a.prev_hash) as recomputed
    from pgshell.audit_log a
    window w as (partition by a.chain order by a.seq)
),
-- Chains whose session was deleted by retention (the tombstone is itself a
-- verified row of the chain).
tombstoned as (
    select distinct r.session_id from rows r where r.event = 'session.deleted' and r.session_id is not null
),
-- The latest snapshot of each command, and of each session.
cmd_snap as (
    select distinct on (r.command_id) r.command_id, r.id, r.chain, r.seq, r.details -> 'snapshot' -> 'command' as snap
    from rows r where r.command_id is not null and r.details -> 'snapshot' ? 'command'
    order by r.command_id, r.seq desc
),
-- Commands that differ from their latest snapshot (whole values compared
-- first; only these are taken apart field by field).
cmd_diff as materialized (
    select x.* from (
        select c.id, c.session_id, c.seq, s.id as audit_id, s.chain, s.seq as aseq, s.snap,
               pgshell.command_snapshot(c) as cur
        from pgshell.commands c join cmd_snap s on s.command_id = c.id
    ) x where x.cur is distinct from x.snap
),
cmd_any as (
    select distinct on (r.command_id) r.command_id, r.id, r.chain, r.seq, r.session_id
    from rows r where r.command_id is not null
    order by r.command_id, r.seq
),
sess_snap as (
    select distinct on (r.session_id) r.session_id, r.id, r.chain, r.seq, r.details -> 'snapshot' -> 'session' as snap
    from rows r where r.session_id is not null and r.details -> 'snapshot' ? 'session'
    order by r.session_id, r.seq desc
),
-- How each session began (session.created or session.forked), for sessions
-- recorded before 0010.
sess_first as (
    select distinct on (r.session_id) r.session_id, r.id, r.chain, r.seq, r.event, r.actor, r.details
    from rows r where r.session_id is not null and r.event in ('session.created', 'session.forked')
    order by r.session_id, r.seq
),
user_rec as (
    select distinct on (r.details ->> 'user') r.details ->> 'user' as name, r.id, r.chain, r.seq,
           coalesce(r.details -> 'snapshot' -> 'user' ->> 'role', r.details ->> 'role') as role
    from rows r
    where r.event like 'user.%' and jsonb_typeof(r.details -> 'user') = 'string'
      and (r.details -> 'snapshot' ? 'user' or r.details ? 'role')
    order by r.details ->> 'user', r.seq desc
),
-- Done commands of each session in order, to check that each starts from
-- the environment the one before it left.
env_seq as (
    select c.id, c.session_id, c.seq, c.env_before, c.env_after,
           lag(c.env_after) over (partition by c.session_id order by c.seq) as prev_after
    from pgshell.commands c where c.env_after is not null
),
problems as (
    -- The chains themselves.
    select id, chain, seq, 'row_altered' as kind, format('audit row %s', id) as object, null::text as field,
           format('audit row %s (chain %s, row %s): content does not match its hash (altered)', id, chain, seq) as problem
    from rows where recomputed <> hash
    union all
    select id, chain, seq, 'row_missing', format('chain %s', chain), null,
           format('row %s of chain %s follows row %s: rows are missing or reordered', seq, chain, coalesce(prev_seq, 0))
    from rows where seq <> coalesce(prev_seq, 0) + 1
    union all
    select id, chain, seq, 'link_broken', format('audit row %s', id), null,
           format('audit row %s (chain %s, row %s): link to the previous row is broken (a row was altered, removed or reordered)',
                  id, chain, seq)
    from rows where prev_hash <> coalesce(expected_prev, '\x'::bytea) and seq = coalesce(prev_seq, 0) + 1
    union all
    select null, h.chain, h.seq, 'head_mismatch', format('chain %s', h.chain), null,
           format('chain %s ends at row %s but its head says %s: rows were removed', h.chain, coalesce(m.max_seq, 0), h.seq)
    from pgshell.audit_heads h
    left join (select r.chain, max(r.seq) max_seq from rows r group by r.chain) m on m.chain = h.chain
    where coalesce(m.max_seq, 0) <> h.seq
    union all
    select r.id, r.chain, r.seq, 'anchor_mismatch', format('chain %s', x.key), null,
           format('anchor in audit row %s records row %s of chain %s, which is missing or differs', r.id, x.value ->> 'seq', x.key)
    from rows r cross join lateral jsonb_each(r.details -> 'heads') x
    where r.event = 'audit.anchor' and not exists (
        select 1 from pgshell.audit_log t
        where t.chain = x.key and t.seq = (x.value ->> 'seq')::bigint and encode(t.hash, 'hex') = x.value ->> 'hash')
    union all
    -- Commands against their latest snapshot, field by field.
    select d.audit_id, d.chain, d.aseq, 'command_altered', format('command %s', d.id), f.key,
           format('command %s (session %s #%s): %s differs from its record in audit row %s', d.id, d.session_id, d.seq,
                  f.key, d.audit_id)
    from cmd_diff d
    cross join lateral (
        select coalesce(now_.key, rec.key) as key
        from jsonb_each(d.cur) now_ full join jsonb_each(d.snap) rec on rec.key = now_.key
        where now_.value is distinct from rec.value
    ) f
    union all
    -- Commands recorded before 0010 (no snapshot): their completion record.
    select r.id, r.chain, r.seq, 'command_altered', format('command %s', c.id), null,
           format('command %s (session %s #%s): stored result differs from its completion record in audit row %s',
                  c.id, c.session_id, c.seq, r.id)
    from rows r join pgshell.commands c on c.id = r.command_id
    where r.event = 'command.completed' and r.details ? 'stdout_sha256' and not (r.details ? 'snapshot')
      and not exists (select 1 from cmd_snap s where s.command_id = c.id and s.seq > r.seq)
      and (encode(sha256(coalesce(c.stdout, '')), 'hex') is distinct from r.details ->> 'stdout_sha256'
        or encode(sha256(coalesce(c.stderr, '')), 'hex') is distinct from r.details ->> 'stderr_sha256'
        or c.exit_code is distinct from (r.details ->> 'exit_code')::int
        or c.outcome::text is distinct from r.details ->> 'outcome'
        or encode(c.env_after, 'hex') is distinct from r.details ->> 'env_after'
        or encode(c.env_before, 'hex') is distinct from r.details ->> 'env_before')
    union all
    -- A command the chain speaks of that is gone (not by retention).
    select a.id, a.chain, a.seq, 'command_missing', format('command %s', a.command_id), null,
           format('command %s of session %s, recorded from audit row %s, is missing (deleted)', a.command_id, a.session_id, a.id)
    from cmd_any a
    where not exists (select 1 from pgshell.commands c where c.id = a.command_id)
      and (a.session_id is null or a.session_id not in (select t.session_id from tombstoned t))
    union all
    -- A hole in a session's numbering (a command deleted with its records).
    select null, s.id::text, null, 'command_missing', format('session %s', s.id), 'seq',
           format('session %s has no command #%s (deleted)', s.id, g.n)
    from pgshell.sessions s cross join lateral generate_series(1, s.next_seq) g(n)
    where not exists (select 1 from pgshell.commands c where c.session_id = s.id and c.seq = g.n)
    union all
    select null, c.session_id::text, null, 'command_missing', format('session %s', c.session_id), 'seq',
           format('session %s holds command #%s but counts only %s commands', c.session_id, c.seq, s.next_seq)
    from pgshell.commands c join pgshell.sessions s on s.id = c.session_id
    where c.seq > s.next_seq or c.seq < 1
    union all
    -- A command no audit row speaks of (inserted behind the API's back).
    select null, c.session_id::text, null, 'command_unrecorded', format('command %s', c.id), null,
           format('command %s (session %s #%s) has no audit record', c.id, c.session_id, c.seq)
    from pgshell.commands c where not exists (select 1 from cmd_any a where a.command_id = c.id)
    union all
    -- Sessions against their latest snapshot.
    select s.id, s.chain, s.seq, 'session_altered', format('session %s', ss.id), f.key,
           format('session %s: %s differs from its record in audit row %s', ss.id, f.key, s.id)
    from pgshell.sessions ss join sess_snap s on s.session_id = ss.id
    cross join lateral (
        select coalesce(now_.key, rec.key) as key
        from jsonb_each(pgshell.session_snapshot(ss)) now_ full join jsonb_each(s.snap) rec on rec.key = now_.key
        where now_.value is distinct from rec.value
    ) f
    union all
    -- Sessions recorded before 0010: the creator and title session.created names.
    select s.id, s.chain, s.seq, 'session_altered', format('session %s', ss.id), f.field,
           format('session %s: %s differs from its record in audit row %s', ss.id, f.field, s.id)
    from pgshell.sessions ss join sess_first s on s.session_id = ss.id
    cross join lateral (
        select 'owner_name' as field
        where s.actor is distinct from (select u.name from pgshell.users u where u.id = ss.owner_id)
        union all
        select 'title' where s.event = 'session.created' and s.details ? 'title'
          and ss.title is distinct from s.details ->> 'title'
    ) f
    where not exists (select 1 from sess_snap n where n.session_id = ss.id)
    union all
    select null, ss.id::text, null, 'session_unrecorded', format('session %s', ss.id), null,
           format('session %s has no audit record of its creation', ss.id)
    from pgshell.sessions ss
    where not exists (select 1 from sess_snap s where s.session_id = ss.id)
      and not exists (select 1 from sess_first s where s.session_id = ss.id)
    union all
    select min(r.id), r.chain, min(r.seq), 'session_missing', format('session %s', r.session_id), null,
           format('session %s, recorded from audit row %s, is missing (deleted)', r.session_id, min(r.id))
    from rows r
    where r.session_id is not null
      and not exists (select 1 from pgshell.sessions ss where ss.id = r.session_id)
      and r.session_id not in (select t.session_id from tombstoned t)
    group by r.session_id, r.chain
    union all
    -- Environments: content against digest, references, and continuity.
    select null, null, null, 'environment_altered', format('environment %s', encode(e.digest, 'hex')), null,
           format('environment %s: its cwd, variables, shell state or tree root do not hash to its digest (altered)',
                  encode(e.digest, 'hex'))
    from pgshell.environments e where pgshell.environment_digest(e) <> e.digest
    union all
    select null, null, null, 'tree_object_missing', format('environment %s', encode(e.digest, 'hex')),
           case when e.root is not null then 'root' else 'tree' end,
           format('environment %s: its tree %s %s is missing', encode(e.digest, 'hex'),
                  case when e.root is not null then 'root object' else 'manifest' end, encode(coalesce(e.root, e.tree), 'hex'))
    from pgshell.environments e
    where (e.root is not null and not exists (select 1 from pgshell.tree_objects t where t.digest = e.root))
       or (e.root is null and e.tree is not null and not exists (select 1 from pgshell.blobs b where b.digest = e.tree))
    union all
    select null, c.session_id::text, null, 'environment_missing', format('command %s', c.id), x.field,
           format('command %s (session %s #%s): its %s environment %s is missing', c.id, c.session_id, c.seq,
                  x.field, encode(x.digest, 'hex'))
    from pgshell.commands c
    cross join lateral (values ('env_before', c.env_before), ('env_after', c.env_after)) x(field, digest)
    where x.digest is not null and not exists (select 1 from pgshell.environments e where e.digest = x.digest)
    union all
    select null, e.session_id::text, null, 'environment_chain', format('command %s', e.id), 'env_before',
           format('command %s (session %s #%s) starts from environment %s, not the one the command before it left (%s)',
                  e.id, e.session_id, e.seq, encode(e.env_before, 'hex'), encode(e.prev_after, 'hex'))
    from env_seq e where e.prev_after is not null and e.env_before is distinct from e.prev_after
    union all
    select null, ss.id::text, null, 'environment_chain', format('session %s', ss.id), 'head_env',
           format('session %s: its head environment %s is not the one its last command left (%s)',
                  ss.id, encode(ss.head_env, 'hex'), encode(l.env_after, 'hex'))
    from pgshell.sessions ss
    join lateral (select e.env_after from env_seq e where e.session_id = ss.id order by e.seq desc limit 1) l on true
    where ss.head_env is distinct from l.env_after
    union all
    -- Users' roles against their latest record.
    select r.id, r.chain, r.seq, 'user_altered', format('user %s', u.name), 'role',
           format('user %s: role %s differs from its record (%s) in audit row %s', u.name, u.role, r.role, r.id)
    from pgshell.users u join user_rec r on r.name = u.name
    where u.role::text is distinct from r.role
    union all
    select null, 'global', null, 'user_unrecorded', format('user %s', u.name), 'role',
           format('user %s (role %s) has no audit record of its creation or role', u.name, u.role)
    from pgshell.users u where not exists (select 1 from user_rec r where r.name = u.name)
    union all
    -- Content-addressed data.
    select null, null, null, 'blob_altered', format('blob %s', encode(b.digest, 'hex')), null,
           format('blob %s does not match its digest (file contents altered)', encode(b.digest, 'hex'))
    from pgshell.blobs b where sha256(b.data) <> b.digest
    union all
    select null, null, null, 'tree_object_altered', format('tree object %s', encode(t.digest, 'hex')), null,
           format('tree object %s does not match its digest (directory listing altered)', encode(t.digest, 'hex'))
    from pgshell.tree_objects t where sha256(t.data) <> t.digest
)
select p.id, p.chain, p.seq, p.kind, p.object, p.field, p.problem from problems p
order by p.id nulls last, p.chain, p.seq, p.kind, p.object, p.field limit p_limit
$$;

create or replace function api.audit_verify() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller(); problems json; n bigint;
begin
    if u.role = 'user' then
        raise exception 'only auditors and admins verify the audit log' using errcode = '42501';
    end if;
    select json_agg(json_build_object('audit_id', p.audit_id, 'chain', p.chain, 'seq', p.seq, 'kind', p.kind,
                                      'object', p.object, 'field', p.field, 'problem', p.problem)),
           count(*)
    into problems, n from pgshell.audit_problems(100) p;
    return json_build_object('ok', n = 0, 'rows', (select count(*) from pgshell.audit_log),
                             'problems', coalesce(problems, '[]'::json));
end $$;

-- ---------------------------------------------------------------------------
-- Privileges: only this migration's new functions (a blanket revoke or grant
-- would undo what other migrations decided for theirs). Replaced functions
-- keep their grants.
-- ---------------------------------------------------------------------------
revoke execute on function
    pgshell.readable_command(bigint), pgshell.owned_command_for_update(bigint),
    pgshell.utf8_or_null(bytea), pgshell.utf8_lossy(bytea), pgshell.canonical_json(jsonb),
    pgshell.environment_digest(pgshell.environments), pgshell.sha256_hex(text), pgshell.micros(timestamptz),
    pgshell.command_snapshot(pgshell.commands), pgshell.session_snapshot(pgshell.sessions),
    pgshell.user_snapshot(pgshell.users), pgshell.retention_sweep(int), pgshell.audit_problems(int)
    from public;
grant execute on function pgshell.retention_sweep(int) to pgshell_executor;
