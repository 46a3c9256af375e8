-- 0006_plans: every command records its plan and its trace, and a completion
-- is one record instead of 24 positional parameters (issue 7, items 3 and 5).
--
-- plan:  what the planner decided before and while the line ran: every
--        program name it resolved, pinned to its kind and module digest (or
--        native path), and the limits the line ran under. A replay runs the
--        recorded plan, never today's resolution (unless asked to compare
--        with it: `pg_shell replay --against-current`).
-- trace: what ran, in order: for each program run, its part and stage of
--        the line, name, kind, outcome, exit status and fuel.

alter table pgshell.commands
    add column plan jsonb,
    add column trace jsonb,
    add constraint commands_plan_object check (plan is null or jsonb_typeof(plan) = 'object'),
    add constraint commands_trace_array check (trace is null or jsonb_typeof(trace) = 'array');
comment on column pgshell.commands.plan is
    'the planner''s decisions: {"programs": {name: {"kind", "digest"|"path"}}, "limits": {...}}';
comment on column pgshell.commands.trace is
    'what ran: [{"part", "stage", "program", "kind", "outcome", "exit_code", "fuel"}]';

-- Large new file contents arrive by COPY before the completion, so the
-- executor never holds more than a chunk of them twice (a bytea parameter is
-- encoded whole). Keyed by the claim they belong to; complete_command moves
-- them into blobs, and a refused or abandoned completion's rows are deleted
-- with it (or, for a dead executor, by the cleanup agent).
create unlogged table pgshell.blob_uploads (
    claim_token uuid not null,
    digest      bytea not null,
    data        bytea not null,
    constraint blob_uploads_digest_len check (length(digest) = 32)
);
create index blob_uploads_by_claim on pgshell.blob_uploads (claim_token);
alter table pgshell.blob_uploads alter column data set storage external;
grant insert on pgshell.blob_uploads to pgshell_executor;

-- p_result: {status, outcome, exit_code, stdout_lossy, stderr_lossy,
-- stdout_truncated, stderr_truncated, fuel, run_us, error, argv, program,
-- program_kind, program_digest (hex), limits, envs, env_before, env_after
-- (hex), plan, trace}. Bytes travel as bytea beside it.
create function pgshell.complete_command(
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
        stdout_lossy = r ->> 'stdout_lossy', stderr_lossy = r ->> 'stderr_lossy',
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
    -- The completion event vouches for the stored result: `audit verify`
    -- recomputes these digests from the row.
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

revoke execute on function pgshell.complete_command(bigint, uuid, jsonb, bytea, bytea, bytea[], bytea[]) from public;
grant execute on function pgshell.complete_command(bigint, uuid, jsonb, bytea, bytea, bytea[], bytea[]) to pgshell_executor;

-- The 24-parameter form is replaced by complete_command.
drop function pgshell.complete(bigint, uuid, pgshell.command_status, pgshell.command_outcome, int, bytea, bytea,
    text, text, boolean, boolean, bigint, bigint, text, jsonb, text, text, bytea, jsonb, bytea[], bytea[], jsonb,
    bytea, bytea);

-- The line's one budget from its recorded limits (see runtime::Limits::budget):
-- timeout_ms at fuel_per_second, or the fuel cap if lower; and how much of it
-- the line used, also as seconds of budget.
create function pgshell.budget_json(p_limits jsonb, p_used bigint) returns json
language sql immutable set search_path = pg_catalog, pg_temp as $$
    with l as (
        select (p_limits ->> 'timeout_ms')::numeric as timeout_ms,
               coalesce((p_limits ->> 'fuel_per_second')::numeric, 8000000000) as fps,
               coalesce((p_limits ->> 'fuel')::numeric, 0) as cap
    ), b as (
        select fps, timeout_ms, floor(timeout_ms * fps / 1000) as time_fuel, cap from l
    )
    select case when p_limits is null or (select timeout_ms from b) is null then null else
        (select json_build_object(
            'fuel', case when cap > 0 and cap < time_fuel then cap else time_fuel end,
            'by', case when cap > 0 and cap < time_fuel then 'fuel' else 'time' end,
            'fuel_per_second', fps,
            'timeout_ms', timeout_ms,
            'used_fuel', p_used,
            'used_seconds', round(coalesce(p_used, 0) / fps, 3))
         from b)
    end
$$;

-- api.command and the pages show the effective limits, the budget and what it
-- was used for, the plan and the trace.
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
        'cancel_requested', c.cancel_requested,
        'limits', c.limits,
        'budget', pgshell.budget_json(c.limits, c.fuel_consumed),
        'plan', c.plan,
        'trace', c.trace)
$$;

-- The terminal view shows the budget a command used (0003's ui_command, plus
-- the budget line).
create or replace function pgshell.ui_command(c json, p_can_act boolean) returns text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    id bigint := (c ->> 'id')::bigint;
    st text := c ->> 'status';
    pending boolean := st in ('queued', 'running');
    meta text[] := array[]::text[];
    h text;
begin
    h := format('<article class="cmd st-%s" id="cmd-%s" data-seq="%s"', pgshell.html_escape(st), id,
                pgshell.html_escape(c ->> 'seq'));
    if pending then
        h := h || format(' hx-get="rpc/ui_command?id=%s" hx-trigger="every 500ms" hx-swap="outerHTML"', id);
    end if;
    h := h || format('><div class="line"><span class="prompt">%s$</span> <span class="text">%s</span></div>',
                     pgshell.html_escape(coalesce(c ->> 'cwd_before', '…')), pgshell.html_escape(c ->> 'line'));
    if coalesce(c ->> 'stdout', '') <> '' then
        h := h || format('<pre class="out">%s</pre>', pgshell.html_escape(c ->> 'stdout'));
    end if;
    if coalesce(c ->> 'stderr', '') <> '' then
        h := h || format('<pre class="err">%s</pre>', pgshell.html_escape(c ->> 'stderr'));
    end if;
    meta := meta || format('#%s', pgshell.html_escape(c ->> 'seq'));
    if st = 'done' then
        meta := meta || format('<span class="outcome o-%1$s">%1$s</span>', pgshell.html_escape(c ->> 'outcome'));
        meta := meta || format('<span class="exit%s">exit %s</span>',
                               case when (c ->> 'exit_code') = '0' then '' else ' bad' end,
                               pgshell.html_escape(coalesce(c ->> 'exit_code', '?')));
        if c ->> 'run_us' is not null then
            meta := meta || format('run %s', pgshell.ui_ms((c ->> 'run_us')::numeric));
        end if;
        if c ->> 'total_ms' is not null then
            meta := meta || format('total %s', pgshell.ui_ms((c ->> 'total_ms')::numeric * 1000));
        end if;
        if c ->> 'fuel' is not null then
            meta := meta || format('fuel %s', pgshell.html_escape(c ->> 'fuel'));
        end if;
        -- The line's one budget: how much of it the line used.
        if c -> 'budget' ->> 'fuel' is not null then
            meta := meta || format('<span class="budget" title="%s fuel of %s (%s per second)">budget %s ms of %s s</span>',
                pgshell.html_escape(coalesce(c -> 'budget' ->> 'used_fuel', '0')),
                pgshell.html_escape(c -> 'budget' ->> 'fuel'),
                pgshell.html_escape(c -> 'budget' ->> 'fuel_per_second'),
                round(coalesce((c -> 'budget' ->> 'used_fuel')::numeric, 0) * 1000
                      / (c -> 'budget' ->> 'fuel_per_second')::numeric, 2)::text,
                round((c -> 'budget' ->> 'fuel')::numeric / (c -> 'budget' ->> 'fuel_per_second')::numeric, 1)::text);
        end if;
        if (c ->> 'stdout_truncated')::boolean or (c ->> 'stderr_truncated')::boolean then
            meta := meta || '<span class="bad">output truncated</span>'::text;
        end if;
        if c ->> 'error' is not null then
            meta := meta || format('<span class="bad">%s</span>', pgshell.html_escape(c ->> 'error'));
        end if;
    else
        meta := meta || format('<span class="outcome o-%1$s">%1$s%2$s</span>', pgshell.html_escape(st),
                               case when pending then '…' else '' end);
    end if;
    if p_can_act and pending then
        meta := meta || format('<button class="link" hx-post="rpc/ui_cancel" hx-vals=''{"id": %s}'' '
                               'hx-target="#cmd-%s" hx-swap="outerHTML">cancel</button>', id, id);
    end if;
    if p_can_act and not pending and pgshell.api_has('api.fork_session(bigint)') then
        meta := meta || format('<button class="link" hx-post="rpc/ui_fork" hx-vals=''{"command_id": %s}'' '
                               'hx-target="#main" title="a new session starting from the state after this command">fork here</button>', id);
    end if;
    return h || '<div class="meta">' || array_to_string(meta, ' · ') || '</div></article>';
end $$;
