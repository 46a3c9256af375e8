-- 0025: complete_command locks the session before the command.
--
-- The HTTP fuzz test met `deadlock detected` (40P01, a 500) between
-- api.close_session and an executor completing a command of that session.
-- Everything else that touches a session and its commands takes the session
-- first; now complete_command does too. The body is 0010's otherwise.

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
    -- Lock order: a session's row before its commands' rows, as
    -- api.close_session, api.submit and the idle-session pass take them.
    -- Taking the command first (as 0010 did) deadlocked with close_session:
    -- this held the command and waited for the session to move head_env,
    -- close_session held the session and waited to flag the command.
    perform 1 from pgshell.sessions s
    where s.id = (select cc.session_id from pgshell.commands cc where cc.id = p_id)
    for no key update;
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
