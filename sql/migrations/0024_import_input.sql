-- 0024_import_input: an imported command keeps its recorded input.
--
-- Export format v3 (src/transfer.rs) carries each command's recorded stdin
-- (`input_digest`, a blob the file also carries and the import stores
-- first; or `input_refused`), so a session with uploads or `pg_shell cp`
-- copies exports, imports and replays like any other. Until now such an
-- export was refused. A v2 file has neither field: both stay null.

create or replace function pgshell.import_session(p_owner bigint, p_file_sha256 bytea, p_doc jsonb)
returns table (session_id uuid, created boolean)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    v_session uuid;
    v_existing uuid;
    c jsonb;
    v_id bigint;
    v_n int := 0;
    v_head bytea;
    v_src jsonb := p_doc -> 'session';
begin
    perform pg_advisory_xact_lock(hashtext('pg_shell.import'), p_owner::int);
    select i.session_id into v_existing from pgshell.imports i
    where i.owner_id = p_owner and i.file_sha256 = p_file_sha256;
    if found then
        return query select v_existing, false;
        return;
    end if;

    -- Every environment must be stored and hash to its digest.
    perform 1 from pgshell.environments e
    where e.digest in (select decode(x ->> f, 'hex') from jsonb_array_elements(p_doc -> 'commands') x,
                       unnest(array['env_before', 'env_after']) f where x ->> f is not null)
      and pgshell.environment_digest(e) <> e.digest;
    if found then
        raise exception 'an environment of the imported session does not match its digest' using errcode = '22000';
    end if;

    insert into pgshell.sessions (owner_id, title, created_at)
    values (p_owner, left(coalesce(v_src ->> 'title', 'imported session'), 200), now())
    returning id into v_session;
    -- The session's first row: what it was imported from (the chain trigger
    -- adds the session's snapshot).
    perform pgshell.audit('session.imported', v_session, null, jsonb_build_object(
        'file_sha256', encode(p_file_sha256, 'hex'), 'format', p_doc ->> 'format',
        'from_session', v_src ->> 'id', 'commands', jsonb_array_length(p_doc -> 'commands'),
        'masks', coalesce(p_doc -> 'masks', '[]'), 'masked_seqs', coalesce(p_doc -> 'masked_seqs', '[]'),
        'signed_by', p_doc ->> 'signed_by'));

    for c in select x from jsonb_array_elements(p_doc -> 'commands') x order by (x ->> 'seq')::int loop
        v_n := v_n + 1;
        if (c ->> 'seq')::int <> v_n then
            raise exception 'the imported commands are not numbered 1, 2, ...: #% where #% was expected', c ->> 'seq', v_n
                using errcode = '22000';
        end if;
        if c ->> 'status' not in ('done', 'cancelled') then
            raise exception 'command #% is %: only finished commands can be imported', v_n, c ->> 'status'
                using errcode = '22000';
        end if;
        insert into pgshell.commands (
            session_id, seq, line, submitted_by, submitted_at, status, attempt, started_at,
            random_seed, clock_base_ns, argv, program, program_kind, program_digest, limits, env_before,
            outcome, exit_code, stdout, stderr, stdout_truncated, stderr_truncated, fuel_consumed, run_us,
            env_after, error, finished_at, plan, trace, input_digest, input_refused)
        values (
            v_session, v_n, c ->> 'line', p_owner, (c ->> 'submitted_at')::timestamptz,
            (c ->> 'status')::pgshell.command_status, coalesce((c ->> 'attempt')::int, 0),
            (c ->> 'started_at')::timestamptz,
            decode(c ->> 'random_seed', 'hex'), (c ->> 'clock_base_ns')::bigint, c -> 'argv',
            c ->> 'program', c ->> 'program_kind', decode(c ->> 'program_digest', 'hex'),
            nullif(c -> 'limits', 'null'::jsonb), decode(c ->> 'env_before', 'hex'),
            (c ->> 'outcome')::pgshell.command_outcome, (c ->> 'exit_code')::int,
            decode(c ->> 'stdout_base64', 'base64'), decode(c ->> 'stderr_base64', 'base64'),
            (c ->> 'stdout_truncated')::boolean, (c ->> 'stderr_truncated')::boolean,
            (c ->> 'fuel')::bigint, (c ->> 'run_us')::bigint, decode(c ->> 'env_after', 'hex'),
            c ->> 'error', (c ->> 'finished_at')::timestamptz,
            nullif(c -> 'plan', 'null'::jsonb), nullif(c -> 'trace', 'null'::jsonb),
            decode(c ->> 'input_digest', 'hex'), c ->> 'input_refused')
        returning id into v_id;
        if c ->> 'env_after' is not null then
            v_head := decode(c ->> 'env_after', 'hex');
        end if;
        -- The chain trigger snapshots the command as imported.
        perform pgshell.audit('command.imported', v_session, v_id, jsonb_build_object(
            'from_session', v_src ->> 'id', 'from_command', c ->> 'id',
            'stdout_sha256', encode(sha256(coalesce(decode(c ->> 'stdout_base64', 'base64'), '')), 'hex'),
            'stderr_sha256', encode(sha256(coalesce(decode(c ->> 'stderr_base64', 'base64'), '')), 'hex')));
    end loop;

    update pgshell.sessions set next_seq = v_n, head_env = v_head where id = v_session;
    insert into pgshell.imports (owner_id, file_sha256, session_id, format, source_session, masks, masked_seqs, signed_by)
    values (p_owner, p_file_sha256, v_session, p_doc ->> 'format', (v_src ->> 'id')::uuid,
            coalesce(p_doc -> 'masks', '[]'),
            coalesce((select array_agg(m::int) from jsonb_array_elements_text(p_doc -> 'masked_seqs') m), '{}'),
            p_doc ->> 'signed_by');
    return query select v_session, true;
end $$;
