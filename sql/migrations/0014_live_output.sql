-- Live output: what a running command's terminal receives, stored as it is
-- produced, in bounded chunks tagged by stream, so it can be read while the
-- command runs (api.output, api.command) and pushed to pages (NOTIFY
-- pg_shell_output, payload only the command's id: listeners re-read).
--
-- The record is unchanged: complete_command still stores the final stdout
-- and stderr, which are exactly the chunks of the last attempt per stream
-- (the executor's sinks hand on only the bytes they keep). A command that
-- ends before its first flush and wrote to at most one stream stores no
-- chunks at all (the common, short command costs nothing more); readers
-- then take its output from the record.
--
-- Fenced by the claim: a chunk is stored only while its writer holds the
-- command's current claim; a later attempt's first chunk removes what an
-- earlier attempt left, and readers only ever look at the command's current
-- attempt, so a re-run command's output replaces, never extends, a dead
-- executor's partial output.

create table pgshell.output_chunks (
    command_id   bigint not null references pgshell.commands (id) on delete cascade,
    attempt      int not null,
    seq          int not null,
    stream       text not null check (stream in ('stdout', 'stderr')),
    -- Offset of the chunk's first byte in the command's output, both
    -- streams together, in the order produced.
    start_offset bigint not null check (start_offset >= 0),
    data         bytea not null,
    created_at   timestamptz not null default clock_timestamp(),
    primary key (command_id, attempt, seq)
);

-- Stores a batch of chunks (seq p_seq.., offsets from p_start) if the caller
-- holds the command's claim; false otherwise (the caller stops streaming).
-- A batch sent again after a lost answer changes nothing (same seqs).
-- p_first: the first batch of this run; what earlier runs of the command
-- left (earlier attempts, or a failed run under this claim) is removed.
create function pgshell.output_append(
    p_id bigint, p_token uuid, p_first boolean, p_seq int, p_start bigint,
    p_streams text[], p_data bytea[])
returns boolean
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    -- A share lock: a hand-back or completion waits for this batch, and a
    -- batch waits for them (then sees that the claim is gone).
    select * into c from pgshell.commands where id = p_id for share;
    if not found or c.status <> 'running' or c.claim_token is distinct from p_token then
        return false;
    end if;
    if cardinality(p_streams) is distinct from cardinality(p_data) then
        raise exception 'streams and data differ in length' using errcode = '22023';
    end if;
    if p_first then
        delete from pgshell.output_chunks where command_id = p_id;
    end if;
    insert into pgshell.output_chunks (command_id, attempt, seq, stream, start_offset, data)
    select p_id, c.attempt, p_seq + (o - 1)::int, s, p_start + coalesce(sum(length(d)) over (order by o rows between unbounded preceding and 1 preceding), 0), d
    from unnest(p_streams, p_data) with ordinality as t(s, d, o)
    on conflict (command_id, attempt, seq) do nothing;
    perform pg_notify('pg_shell_output', p_id::text);
    return true;
end $$;

-- The command's output from byte `p_after` on (both streams, in the order
-- produced), as chunks of text. For a finished command whose chunks are not
-- its whole record (it stored none, or a result was replaced), the record's
-- stdout then stderr.
create function pgshell.output_json(c pgshell.commands, p_after bigint) returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    finished boolean := c.status not in ('queued', 'running');
    use_chunks boolean;
    chunks json;
    v_end bigint;
begin
    if p_after is null or p_after < 0 then
        raise exception 'after_offset must be a byte offset (0 or more)' using errcode = '22023';
    end if;
    use_chunks := not finished or (
        select coalesce(sum(length(k.data)) filter (where k.stream = 'stdout'), 0) = coalesce(length(c.stdout), 0)
           and coalesce(sum(length(k.data)) filter (where k.stream = 'stderr'), 0) = coalesce(length(c.stderr), 0)
           and count(*) > 0
        from pgshell.output_chunks k where k.command_id = c.id and k.attempt = c.attempt);
    with k as (
        select k.seq, k.stream, k.start_offset, k.data from pgshell.output_chunks k
        where use_chunks and k.command_id = c.id and k.attempt = c.attempt
        union all
        select 0, 'stdout', 0, c.stdout where not use_chunks and length(c.stdout) > 0
        union all
        select 1, 'stderr', coalesce(length(c.stdout), 0), c.stderr where not use_chunks and length(c.stderr) > 0
    ), cut as (
        select seq, stream, greatest(start_offset, p_after) as start_offset,
               case when start_offset >= p_after then data
                    else substring(data from (p_after - start_offset + 1)::int) end as data,
               start_offset + length(data) as end_offset
        from k
    )
    select json_agg(json_build_object('stream', stream, 'offset', start_offset, 'text', pgshell.utf8_lossy(data)) order by seq)
               filter (where end_offset > p_after),
           coalesce(max(end_offset), 0)
    into chunks, v_end from cut;
    return json_build_object(
        'id', c.id,
        'session_id', c.session_id,
        'seq', c.seq,
        'status', c.status,
        'outcome', c.outcome,
        'exit_code', c.exit_code,
        'attempt', c.attempt,
        'done', finished,
        'started_at', c.started_at,
        'elapsed_ms', case when c.started_at is not null then
            round((extract(epoch from (coalesce(c.finished_at, clock_timestamp()) - c.started_at)) * 1000)::numeric, 1) end,
        'offset', greatest(v_end, p_after),
        'chunks', coalesce(chunks, '[]'::json));
end $$;

-- What a command has written after byte `after_offset` (0: everything).
-- Poll with the answer's `offset` to follow a running command; `done` says
-- it has finished; a changed `attempt` means it started over (read from 0).
-- The same visibility as api.command.
create function api.output(id bigint, after_offset bigint default 0) returns json
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pgshell.output_json(pgshell.readable_command(output.id), output.after_offset)
$$;

-- As 0010, and a running command shows its output so far.
create or replace function api.command(id bigint) returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands := pgshell.readable_command(command.id);
begin
    if c.status <> 'running' then
        return pgshell.command_json(c);
    end if;
    return (pgshell.command_json(c)::jsonb || (
        select jsonb_build_object(
            'stdout', coalesce(pgshell.utf8_lossy(string_agg(k.data, ''::bytea order by k.seq) filter (where k.stream = 'stdout')), ''),
            'stderr', coalesce(pgshell.utf8_lossy(string_agg(k.data, ''::bytea order by k.seq) filter (where k.stream = 'stderr')), ''),
            'output_bytes', coalesce(sum(length(k.data)), 0))
        from pgshell.output_chunks k where k.command_id = c.id and k.attempt = c.attempt))::json;
end $$;

revoke execute on function pgshell.output_append(bigint, uuid, boolean, int, bigint, text[], bytea[]),
    pgshell.output_json(pgshell.commands, bigint), api.output(bigint, bigint) from public;
grant execute on function pgshell.output_append(bigint, uuid, boolean, int, bigint, text[], bytea[]) to pgshell_executor;
grant execute on function api.output(bigint, bigint) to pgshell_user, pgshell_auditor, pgshell_admin;

-- ---------------------------------------------------------------------------
-- The web terminal: colours, live output, session URLs
-- ---------------------------------------------------------------------------
-- Terminal text as HTML: escaped, with ANSI SGR colours and attributes as
-- spans with classes (a-b bold, a-d dim, a-i italic, a-u underline, a-fgN /
-- a-bgN for the 16 colours; 256-colour codes below 16 map to those, others
-- and 24-bit colours are dropped). Every other escape sequence is removed,
-- never passed through: the CSP forbids inline styles, and nothing in the
-- text can become markup.
create function pgshell.ansi_html(t text) returns text
language plpgsql immutable parallel safe set search_path = pg_catalog, pg_temp as $$
declare
    pieces text[];
    seqs text[];
    m text[];
    out text := '';
    b boolean := false; d boolean := false; i boolean := false; u boolean := false;
    fg int; bg int;
    params int[];
    p int; k int; n int;
    cls text;
begin
    if t is null then
        return null;
    end if;
    if position(E'\x1b' in t) = 0 then
        return pgshell.html_escape(t);
    end if;
    -- CSI sequences (ESC [ params final), then any other ESC pair.
    pieces := regexp_split_to_array(t, E'\x1b\\[[0-?]*[ -/]*[@-~]');
    seqs := array(select r[1] || chr(1) || r[2] from regexp_matches(t, E'\x1b\\[([0-?]*)[ -/]*([@-~])', 'g') r);
    for k in 1 .. cardinality(pieces) loop
        if pieces[k] <> '' then
            cls := concat_ws(' ', case when b then 'a-b' end, case when d then 'a-d' end, case when i then 'a-i' end,
                             case when u then 'a-u' end, 'a-fg' || fg, 'a-bg' || bg);
            if cls = '' then
                out := out || pgshell.html_escape(regexp_replace(pieces[k], E'\x1b[ -~]?|[\x01-\x08\x0b\x0e-\x1f\x7f]', '', 'g'));
            else
                out := out || '<span class="' || cls || '">'
                    || pgshell.html_escape(regexp_replace(pieces[k], E'\x1b[ -~]?|[\x01-\x08\x0b\x0e-\x1f\x7f]', '', 'g')) || '</span>';
            end if;
        end if;
        exit when k > cardinality(seqs);
        -- Only SGR (final byte m) changes the state; other sequences vanish.
        m := string_to_array(seqs[k], chr(1));
        continue when m[2] <> 'm' or m[1] !~ '^[0-9;]*$';
        params := array(select coalesce(nullif(x, '')::int, 0) from unnest(string_to_array(m[1], ';')) x);
        if cardinality(params) = 0 then
            params := array[0];
        end if;
        p := 1;
        while p <= cardinality(params) loop
            n := params[p];
            case
                when n = 0 then b := false; d := false; i := false; u := false; fg := null; bg := null;
                when n = 1 then b := true;
                when n = 2 then d := true;
                when n = 3 then i := true;
                when n = 4 then u := true;
                when n = 22 then b := false; d := false;
                when n = 23 then i := false;
                when n = 24 then u := false;
                when n between 30 and 37 then fg := n - 30;
                when n = 39 then fg := null;
                when n between 40 and 47 then bg := n - 40;
                when n = 49 then bg := null;
                when n between 90 and 97 then fg := n - 90 + 8;
                when n between 100 and 107 then bg := n - 100 + 8;
                when n in (38, 48) then
                    if params[p + 1] = 5 then
                        if params[p + 2] between 0 and 15 then
                            if n = 38 then fg := params[p + 2]; else bg := params[p + 2]; end if;
                        end if;
                        p := p + 2;
                    elsif params[p + 1] = 2 then
                        p := p + 4;
                    end if;
                else null;
            end case;
            p := p + 1;
        end loop;
    end loop;
    return out;
end $$;

-- Bytes of a running command's output shown live: the newest 64 KiB (the
-- whole output is in the record once it ends).
create function pgshell.ui_live_output(c pgshell.commands) returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    with k as (
        select k.seq, k.stream, k.start_offset, k.data,
               k.seq - row_number() over (partition by k.stream order by k.seq) as island
        from pgshell.output_chunks k
        where k.command_id = c.id and k.attempt = c.attempt
          and k.start_offset + length(k.data) > (select coalesce(max(x.start_offset + length(x.data)), 0) - 65536
                                                 from pgshell.output_chunks x where x.command_id = c.id and x.attempt = c.attempt)
    ), runs as (
        select stream, min(seq) as first, string_agg(data, ''::bytea order by seq) as data from k group by stream, island
    )
    select coalesce(string_agg(case when stream = 'stderr'
                                    then '<span class="err">' || pgshell.ansi_html(pgshell.utf8_lossy(data)) || '</span>'
                                    else pgshell.ansi_html(pgshell.utf8_lossy(data)) end, '' order by first), '')
    from runs
$$;

-- The body of a terminal entry (its line, output and meta line).
create function pgshell.ui_command_body(c json, p_can_act boolean) returns text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    id bigint := (c ->> 'id')::bigint;
    st text := c ->> 'status';
    pending boolean := st in ('queued', 'running');
    meta text[] := array[]::text[];
    h text;
    cmd pgshell.commands;
begin
    h := format('<div class="line" data-status="%s"><span class="prompt">%s$</span> <span class="text">%s</span></div>', pgshell.html_escape(st),
                     pgshell.html_escape(coalesce(c ->> 'cwd_before', '…')), pgshell.html_escape(c ->> 'line'));
    if pending then
        select * into cmd from pgshell.commands k where k.id = (c ->> 'id')::bigint;
        h := h || format('<pre class="out live" aria-live="polite">%s</pre>',
                         pgshell.ui_live_output(cmd));
    else
        if coalesce(c ->> 'stdout', '') <> '' then
            h := h || format('<pre class="out">%s</pre>', pgshell.ansi_html(c ->> 'stdout'));
        end if;
        if coalesce(c ->> 'stderr', '') <> '' then
            h := h || format('<pre class="err">%s</pre>', pgshell.ansi_html(c ->> 'stderr'));
        end if;
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
    if pending and c ->> 'started_at' is not null then
        meta := meta || format('<span class="elapsed" data-ms="%s">%s s</span>',
            round((extract(epoch from (clock_timestamp() - (c ->> 'started_at')::timestamptz)) * 1000)::numeric)::bigint,
            round(extract(epoch from (clock_timestamp() - (c ->> 'started_at')::timestamptz))::numeric, 1));
    end if;
    if p_can_act and pending then
        meta := meta || format('<button class="link cancel" hx-post="rpc/ui_cancel" hx-vals=''{"id": %s}'' '
                               'hx-target="#cmd-%s" hx-swap="outerHTML">cancel</button>', id, id);
    end if;
    if p_can_act and not pending and pgshell.api_has('api.fork_session(bigint)') then
        meta := meta || format('<button class="link" hx-post="rpc/ui_fork" hx-vals=''{"command_id": %s}'' '
                               'hx-target="#main" title="a new session starting from the state after this command">fork here</button>', id);
    end if;
    return h || '<div class="meta">' || array_to_string(meta, ' · ') || '</div>';
end $$;

-- One entry of the terminal: 0006's ui_command with colours
-- (pgshell.ansi_html) and, while the command is pending, its output so far
-- and elapsed time, followed live: through Server-Sent Events from
-- `pg_shell serve` (live/command, htmx's SSE extension: an "output" event
-- replaces the entry's body, "done" the whole entry), or, where there is no
-- SSE (a plain PostgREST), by html/app.js polling rpc/ui_command.
create or replace function pgshell.ui_command(c json, p_can_act boolean) returns text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    id bigint := (c ->> 'id')::bigint;
    st text := c ->> 'status';
begin
    if st in ('queued', 'running') then
        return format('<article class="cmd st-%s" id="cmd-%s" data-id="%s" data-seq="%s" data-live="1" hx-ext="sse" '
                      'sse-connect="live/command?id=%s" sse-swap="done" sse-close="done" hx-target="this" hx-swap="outerHTML">'
                      '<div class="body" sse-swap="output" hx-target="this" hx-swap="innerHTML">%s</div></article>',
                      pgshell.html_escape(st), id, id, pgshell.html_escape(c ->> 'seq'), id, pgshell.ui_command_body(c, p_can_act));
    end if;
    return format('<article class="cmd st-%s" id="cmd-%s" data-id="%s" data-seq="%s">%s</article>',
                  pgshell.html_escape(st), id, id, pgshell.html_escape(c ->> 'seq'), pgshell.ui_command_body(c, p_can_act));
end $$;

-- What `pg_shell serve`'s live/command stream sends: while the command is
-- pending, the entry's body with its live output (an "output" event;
-- X-Output-Offset says its state and how far it is, so the stream sends only
-- changes); once it has ended, the whole
-- entry (a "done" event, X-Command-Done: true). The caller must be allowed
-- to read the command (api.command's check), on every call.
create function api.ui_live(id bigint) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    c pgshell.commands := pgshell.readable_command(ui_live.id);
    v_end bigint;
begin
    if c.status not in ('queued', 'running') then
        perform set_config('response.headers', json_build_array(json_build_object('X-Command-Done', 'true'))::text, true);
        return api.ui_command(c.id);
    end if;
    select coalesce(max(k.start_offset + length(k.data)), 0) into v_end
    from pgshell.output_chunks k where k.command_id = c.id and k.attempt = c.attempt;
    perform set_config('response.headers', json_build_array(
        json_build_object('X-Output-Offset', c.status || ':' || c.attempt || ':' || v_end))::text, true);
    return pgshell.ui_command_body(api.command(c.id),
        exists (select 1 from pgshell.sessions s where s.id = c.session_id and s.closed_at is null and s.owner_id = u.id));
end $$;

revoke execute on function pgshell.ansi_html(text), pgshell.ui_live_output(pgshell.commands), pgshell.ui_command_body(json, boolean),
    api.ui_live(bigint) from public;
grant execute on function api.ui_live(bigint) to pgshell_user, pgshell_auditor, pgshell_admin;

-- ---------------------------------------------------------------------------
-- Sessions: ids, a filter, pages; each session has its own URL
-- ---------------------------------------------------------------------------
-- Links carry `?session=ID` (pushed into the address bar with hx-push-url;
-- html/app.js opens that session when the page loads, also from a plain
-- static server), so reload, back and sharing land on the session.
drop function api.ui_sessions();
create function api.ui_sessions(q text default null, page int default 1) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    sees_all boolean := u.role in ('auditor', 'admin');
    can_fork boolean := pgshell.api_has('api.fork_session(bigint)');
    f_q text := nullif(btrim(q), '');
    page_size constant int := 25;
    v_page int := greatest(coalesce(page, 1), 1);
    rows text; total bigint;
begin
    select count(*) into total from pgshell.sessions s join pgshell.users o on o.id = s.owner_id
    where (s.owner_id = u.id or sees_all)
      and (f_q is null or s.id::text like lower(f_q) || '%' or strpos(lower(coalesce(s.title, '')), lower(f_q)) > 0
           or (sees_all and o.name = f_q));
    select string_agg(format(
        '<tr class="%s"><td><a href="?session=%s" hx-get="rpc/ui_session?session_id=%s" hx-target="#main" hx-push-url="?session=%s">%s</a></td>'
        '<td><code class="sid" title="%s">%s</code> <button class="link copy" type="button" data-copy="%s" aria-label="copy the session id %s">copy</button></td>%s'
        '<td class="num">%s</td><td><code>%s</code></td><td class="at">%s</td><td>%s</td><td class="actions">%s%s</td></tr>',
        case when x.closed_at is null then 'open' else 'closed' end,
        x.id, x.id, x.id, coalesce(nullif(pgshell.html_escape(x.title), ''), '<i>untitled</i>'),
        x.id, left(x.id::text, 8), x.id, x.id,
        case when sees_all then format('<td>%s</td>', pgshell.html_escape(x.owner_name)) else '' end,
        x.next_seq,
        pgshell.html_escape(coalesce(x.cwd, '/')),
        to_char(x.created_at, 'YYYY-MM-DD HH24:MI'),
        case when x.closed_at is null then 'open' else 'closed' end,
        case when can_fork and x.owner_id = u.id and x.last_cmd is not null
             then format('<button class="link" hx-post="rpc/ui_fork" hx-vals=''{"command_id": %s}'' hx-target="#main">fork</button> ', x.last_cmd)
             else '' end,
        case when x.owner_id = u.id and x.closed_at is null
             then format('<button class="link" hx-post="rpc/ui_close_session" hx-vals=''{"session_id": "%s"}'' '
                         'hx-target="#main" hx-confirm="Close this session?">close</button>', x.id)
             else '' end),
        '' order by x.created_at desc, x.id)
    into rows
    from (select s.id, s.title, s.closed_at, s.created_at, s.next_seq, s.owner_id, o.name as owner_name, e.cwd,
                 (select c.id from pgshell.commands c where c.session_id = s.id and c.status = 'done'
                  order by c.id desc limit 1) as last_cmd
          from pgshell.sessions s
          join pgshell.users o on o.id = s.owner_id
          left join pgshell.environments e on e.digest = s.head_env
          where (s.owner_id = u.id or sees_all)
            and (f_q is null or s.id::text like lower(f_q) || '%' or strpos(lower(coalesce(s.title, '')), lower(f_q)) > 0
                 or (sees_all and o.name = f_q))
          order by s.created_at desc, s.id
          limit page_size offset (v_page - 1) * page_size) x;
    rows := coalesce(rows, '');

    return format(
        '<section class="sessions"><h2>%s</h2>%s'
        '<form class="filters" hx-get="rpc/ui_sessions" hx-target="#main" role="search">'
        '<input name="q" placeholder="title or id prefix%s" value="%s" aria-label="filter sessions">'
        '<button type="submit">filter</button></form>'
        '<table><thead><tr><th>title</th><th>id</th>%s<th>cmds</th><th>cwd</th><th>created</th><th>state</th><th></th></tr></thead>'
        '<tbody>%s</tbody></table>'
        '<nav class="pages" aria-label="pages">%s<span>page %s of %s (%s sessions)</span>%s</nav></section>',
        case when sees_all then 'All sessions' else 'Your sessions' end,
        case when u.role = 'auditor' then ''
             else '<form class="new" hx-post="rpc/ui_new_session" hx-target="#main">'
                  '<input name="title" placeholder="title (optional)" maxlength="200" aria-label="session title">'
                  '<button type="submit">New session</button></form>' end,
        case when sees_all then ', or owner' else '' end,
        pgshell.html_escape(f_q),
        case when sees_all then '<th>owner</th>' else '' end,
        case when rows = '' then format('<tr><td colspan="%s" class="empty">no sessions%s</td></tr>',
                                        case when sees_all then 8 else 7 end, case when f_q is null then ' yet' else ' match' end)
             else rows end,
        case when v_page > 1 then format('<button class="link" hx-get="rpc/ui_sessions" hx-target="#main" hx-vals=''%s''>newer</button>',
                                         pgshell.html_escape(json_build_object('q', coalesce(f_q, ''), 'page', v_page - 1)::text)) else '' end,
        v_page, greatest(1, (total + page_size - 1) / page_size), total,
        case when v_page * page_size < total then format('<button class="link" hx-get="rpc/ui_sessions" hx-target="#main" hx-vals=''%s''>older</button>',
                                         pgshell.html_escape(json_build_object('q', coalesce(f_q, ''), 'page', v_page + 1)::text)) else '' end);
end $$;

-- The page shell's first request, as 0003's; with a session id (the page's
-- ?session=ID), that session's terminal instead of the list.
drop function api.ui_home();
create function api.ui_home(session_id uuid default null) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller_or_null();
begin
    if u.id is null then
        return pgshell.ui_login_form(null);
    end if;
    if session_id is not null then
        return pgshell.ui_nav(u) || '<main id="main">' || api.ui_session(session_id) || '</main>';
    end if;
    return pgshell.ui_nav(u) || '<main id="main">' || api.ui_sessions() || '</main>';
end $$;

-- ---------------------------------------------------------------------------
-- Exports as files over HTTP: a media-type handler as PostgREST has them
-- (a function returning the "*/*" domain answers any Accept; its
-- Content-Type and file name are set through response.headers).
-- ---------------------------------------------------------------------------
create domain api."*/*" as bytea;

create function api.session_cast(session_id uuid) returns api."*/*"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.readable_session(session_id);
begin
    perform set_config('response.headers', json_build_array(
        json_build_object('Content-Type', 'application/x-asciicast'),
        json_build_object('Content-Disposition', format('attachment; filename="session-%s.cast"', s.id)))::text, true);
    return convert_to(pgshell.export_asciicast(s.id), 'UTF8');
end $$;

create function api.session_json(session_id uuid) returns api."*/*"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare s pgshell.sessions := pgshell.readable_session(session_id);
begin
    perform set_config('response.headers', json_build_array(
        json_build_object('Content-Type', 'application/json; charset=utf-8'),
        json_build_object('Content-Disposition', format('attachment; filename="session-%s.json"', s.id)))::text, true);
    return convert_to(api.export_json(s.id)::text, 'UTF8');
end $$;

-- 0009's terminal view: the export links download files (session_cast,
-- session_json); the section carries the session id the page puts in its URL.
create or replace function api.ui_session(session_id uuid) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    s pgshell.sessions := pgshell.readable_session(session_id);
    can_act boolean := s.owner_id = u.id and s.closed_at is null;
    owner_name text := (select name from pgshell.users where id = s.owner_id);
    cwd text := coalesce((select e.cwd from pgshell.environments e where e.digest = s.head_env), '/');
    cmds text;
    tools text := '';
begin
    select coalesce(string_agg(pgshell.ui_command(h, can_act), '' order by (h ->> 'id')::bigint), '')
    into cmds from api.history(s.id) h;

    tools := tools || format('<code class="sid" title="session id">%s</code><button class="link copy" type="button" data-copy="%s" '
                             'aria-label="copy the session id">copy id</button>', s.id, s.id);
    if pgshell.api_has('api.request_replay(uuid)') then
        tools := tools || format('<button class="link" hx-post="rpc/ui_replay" hx-vals=''{"session_id": "%s"}'' '
                                 'hx-target="#replay">replay</button><span id="replay" aria-live="polite"></span>', s.id);
    end if;
    tools := tools || format('<a href="rpc/session_json?session_id=%s" download="session-%s.json">export JSON</a>', s.id, s.id);
    tools := tools || format('<a href="rpc/session_cast?session_id=%s" download="session-%s.cast">asciicast</a>', s.id, s.id);
    if u.role in ('auditor', 'admin') then
        tools := tools || format('<button class="link" hx-get="rpc/ui_audit?session_id=%s" hx-target="#main">audit</button>', s.id);
    end if;
    if can_act then
        tools := tools || format('<button class="link" hx-post="rpc/ui_close_session" hx-vals=''{"session_id": "%s"}'' '
                                 'hx-target="#main" hx-confirm="Close this session?">close</button>', s.id);
    end if;

    return format(
        '<section class="term" id="term" data-session="%s">'
        '<header class="bar"><h2>%s</h2><span class="owner">%s</span>%s<span class="tools">%s</span></header>'
        '<div class="cmds" id="cmds">%s</div>%s</section>',
        s.id,
        coalesce(nullif(pgshell.html_escape(s.title), ''), '<i>untitled</i>'),
        pgshell.html_escape(owner_name),
        case when s.closed_at is null then '' else '<span class="badge">closed</span>' end,
        tools,
        cmds,
        case when can_act then format(
            '<form class="input" hx-post="rpc/ui_submit" hx-target="#cmds" hx-swap="beforeend">'
            '<input type="hidden" name="session_id" value="%s">'
            '<label for="line" class="prompt"><span id="cwd">%s</span>$</label>'
            '<input id="line" name="line" autocomplete="off" autocapitalize="off" spellcheck="false" autofocus '
            'aria-label="command line" required></form>', s.id, pgshell.html_escape(cwd))
        when u.role = 'auditor' then '<p class="note">Read-only: auditors run nothing.</p>'
        else '' end);
end $$;

-- ---------------------------------------------------------------------------
-- The auditor's console
-- ---------------------------------------------------------------------------
-- Who did it: the pg_shell user; for an executor's events the executor;
-- other service actions (run as a database role) say pg_shell.
create function pgshell.ui_audit_actor(a pgshell.audit_log) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select case
        when exists (select 1 from pgshell.users u where u.name = a.actor) then pgshell.html_escape(a.actor)
        when a.details ? 'executor'
            then format('<span class="executor" title="executor">%s</span>', pgshell.html_escape(a.details ->> 'executor'))
        else format('<span class="service" title="database role %s">pg_shell</span>', pgshell.html_escape(a.actor)) end
$$;

-- An event as a sentence (HTML, every value escaped).
create function pgshell.ui_audit_sentence(a pgshell.audit_log) returns text
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare
    d jsonb := a.details;
    cmd text := case when a.command_id is null then 'a command' else format('command %s', a.command_id) end;
    v text := pgshell.html_escape(d ->> 'line');
begin
    return case a.event
        when 'session.created' then format('opened a session%s', coalesce(' “' || pgshell.html_escape(d ->> 'title') || '”', ''))
        when 'session.closed' then format('closed the session%s',
            case when (d ->> 'cancelled_queued')::int > 0 then format(' (%s queued commands cancelled)', d ->> 'cancelled_queued') else '' end)
        when 'session.forked' then format('forked a session from command %s', pgshell.html_escape(d ->> 'from_command'))
        when 'session.reopened' then 'reopened the session'
        when 'session.held' then 'put the session on hold (kept from retention)'
        when 'session.released' then 'released the session''s hold'
        when 'session.deleted' then 'deleted the session (retention)'
        when 'session.imported' then 'imported the session from an export file'
        when 'command.submitted' then format('submitted %s: <code>%s</code>', cmd, coalesce(v, ''))
        when 'command.claimed' then format('claimed %s (attempt %s)', cmd, pgshell.html_escape(d ->> 'attempt'))
        when 'command.rescued' then format('took over %s after its executor was lost (attempt %s)', cmd, pgshell.html_escape(d ->> 'attempt'))
        when 'command.completed' then format('finished %s: %s, exit %s', cmd, pgshell.html_escape(d ->> 'outcome'), pgshell.html_escape(d ->> 'exit_code'))
        when 'command.cancelled' then format('cancelled %s (it was %s)', cmd, pgshell.html_escape(coalesce(d ->> 'was', '?')))
        when 'command.cancel_requested' then format('asked to cancel %s', cmd)
        when 'command.released' then format('handed %s back to the queue%s', cmd, coalesce(' (' || pgshell.html_escape(d ->> 'reason') || ')', ''))
        when 'command.lost' then format('recorded %s as lost%s', cmd, coalesce(' (' || pgshell.html_escape(d ->> 'reason') || ')', ''))
        when 'command.imported' then format('imported %s', cmd)
        when 'user.login' then 'logged in'
        when 'user.logout' then 'logged out'
        when 'user.login_failed' then format('failed to log in%s', coalesce(' as ' || pgshell.html_escape(d ->> 'user'), ''))
        when 'user.created' then format('created the user %s (%s)', pgshell.html_escape(d ->> 'user'), pgshell.html_escape(d ->> 'role'))
        when 'user.updated' then format('updated the user %s (%s)', pgshell.html_escape(d ->> 'user'), pgshell.html_escape(d ->> 'role'))
        when 'user.disabled' then format('disabled the user %s', pgshell.html_escape(d ->> 'user'))
        when 'user.enabled' then format('enabled the user %s', pgshell.html_escape(d ->> 'user'))
        when 'program.enabled' then format('enabled the program %s', pgshell.html_escape(d ->> 'program'))
        when 'program.disabled' then format('disabled the program %s', pgshell.html_escape(d ->> 'program'))
        when 'replay.requested' then 'requested a replay of the session'
        when 'replay.finished' then format('finished a replay: %s', pgshell.html_escape(coalesce(d ->> 'verdict', d ->> 'status', '?')))
        when 'executor.dead' then 'was judged dead; its commands were handed back'
        when 'audit.anchor' then format('anchored %s session chains into the global chain',
            (select count(*) from jsonb_object_keys(coalesce(d -> 'heads', '{}'))))
        else format('<code>%s</code>', pgshell.html_escape(a.event)) end;
end $$;

-- 0003's audit page as a console: sentences, the details folded, one-line
-- times, runs of anchor events collapsed into one row, and a button that
-- verifies the log (api.audit_verify).
create or replace function api.ui_audit(session_id text default null, actor text default null, event text default null,
                                        before_id text default null) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    f_session uuid; f_before bigint;
    f_actor text := nullif(btrim(actor), '');
    f_event text := nullif(btrim(event), '');
    page_size constant int := 200;
    rows text; n int; oldest bigint;
begin
    if u.role not in ('auditor', 'admin') then
        raise exception 'only auditors and admins read the audit log' using errcode = '42501';
    end if;
    begin
        f_session := nullif(btrim(ui_audit.session_id), '')::uuid;
        f_before := nullif(btrim(before_id), '')::bigint;
    exception when invalid_text_representation or numeric_value_out_of_range then
        raise exception 'bad filter: session must be a uuid, before an id' using errcode = '22023';
    end;
    with page as (
        select l.* from pgshell.audit_log l
        where (f_session is null or l.session_id = f_session)
          and (f_actor is null or l.actor = f_actor or l.details ->> 'executor' = f_actor)
          and (f_event is null or l.event like f_event || '%')
          and (f_before is null or l.id < f_before)
        order by l.id desc limit page_size
    ), prev as (
        select p.*, lag(p.event) over (order by p.id desc) as prev_event from page p
    ), runs as (
        -- consecutive anchors (in this page's order) form one run
        select p.id, p.at, p.actor, p.event, p.session_id, p.command_id, p.details,
               sum(case when p.event = 'audit.anchor' and p.prev_event = 'audit.anchor' then 0 else 1 end)
                   over (order by p.id desc) as run
        from prev p
    ), grouped as (
        select min(r.run) as run, max(r.id) as id, count(*) as n, bool_and(r.event = 'audit.anchor') as anchors,
               (array_agg(l order by l.id desc))[1] as a, min(r.at) as first_at, max(r.at) as last_at, min(r.id) as first_id
        from runs r join pgshell.audit_log l on l.id = r.id group by r.run
    )
    select string_agg(case when g.anchors and g.n > 1 then format(
             '<tr class="anchors"><td class="num">%s–%s</td><td class="at">%s</td><td>—</td><td>'
             '<details><summary>%s anchor events (the global chain recorded each session chain''s head)</summary> <code class="event">audit.anchor</code>'
             '<pre class="details">%s</pre></details></td><td></td><td></td></tr>',
             g.first_id, g.id, to_char(g.last_at, 'YYYY-MM-DD HH24:MI:SS'), g.n,
             pgshell.html_escape(jsonb_pretty((g.a).details)))
           else format(
             '<tr class="ev ev-%s"><td class="num">%s</td><td class="at">%s</td><td class="actor">%s</td><td><span class="what">%s</span> '
             '<code class="event">%s</code><details><summary>details</summary><pre class="details">%s</pre></details></td><td>%s</td><td class="num">%s</td></tr>',
             pgshell.html_escape(split_part((g.a).event, '.', 1)), g.id, to_char((g.a).at, 'YYYY-MM-DD HH24:MI:SS'),
             pgshell.ui_audit_actor(g.a), pgshell.ui_audit_sentence(g.a), pgshell.html_escape((g.a).event),
             pgshell.html_escape(jsonb_pretty((g.a).details)),
             case when (g.a).session_id is null then ''
                  else format('<a href="?session=%s" hx-get="rpc/ui_session?session_id=%s" hx-target="#main" hx-push-url="?session=%s">%s</a>',
                              (g.a).session_id, (g.a).session_id, (g.a).session_id, left((g.a).session_id::text, 8)) end,
             coalesce((g.a).command_id::text, '')) end, '' order by g.id desc),
           (select count(*) from page), (select min(id) from page)
    into rows, n, oldest
    from grouped g;

    return format(
        '<section class="audit"><h2>Audit log</h2>'
        '<div class="verify"><button type="button" hx-get="rpc/ui_audit_verify" hx-target="#verify-result">verify the audit log</button>'
        '<span id="verify-result" aria-live="polite"></span></div>'
        '<form class="filters" hx-get="rpc/ui_audit" hx-target="#main">'
        '<input name="session_id" placeholder="session id" value="%s" aria-label="session id">'
        '<input name="actor" placeholder="user or executor" value="%s" aria-label="actor">'
        '<input name="event" placeholder="event prefix, e.g. command." value="%s" aria-label="event">'
        '<input type="hidden" name="before_id" value="">'
        '<button type="submit">filter</button></form>'
        '<table><thead><tr><th>id</th><th>at</th><th>who</th><th>what</th><th>session</th><th>cmd</th></tr></thead>'
        '<tbody>%s</tbody></table>%s</section>',
        pgshell.html_escape(f_session::text), pgshell.html_escape(f_actor), pgshell.html_escape(f_event),
        coalesce(nullif(rows, ''), '<tr><td colspan="6" class="empty">no matching events</td></tr>'),
        case when n = page_size then format(
            '<button class="link" hx-get="rpc/ui_audit" hx-target="#main" hx-vals=''%s''>older</button>',
            pgshell.html_escape(json_build_object('session_id', coalesce(f_session::text, ''), 'actor', coalesce(f_actor, ''),
                                                  'event', coalesce(f_event, ''), 'before_id', oldest::text)::text))
        else '' end);
end $$;

-- The verify button's answer: api.audit_verify's result, readable.
create function api.ui_audit_verify() returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare r json := api.audit_verify();
begin
    if (r ->> 'ok')::boolean then
        return format('<span class="verified" role="status">✓ the audit log verifies: %s rows, every chain and record intact</span>',
                      pgshell.html_escape(r ->> 'rows'));
    end if;
    return format('<div class="problems" role="alert"><strong>✗ the audit log does not verify</strong> (%s rows)<ul>%s</ul></div>',
        pgshell.html_escape(r ->> 'rows'),
        (select string_agg(format('<li><code>%s</code> %s</li>', pgshell.html_escape(p ->> 'kind'), pgshell.html_escape(p ->> 'problem')), '')
         from json_array_elements(r -> 'problems') p));
end $$;

revoke execute on function pgshell.ui_audit_actor(pgshell.audit_log), pgshell.ui_audit_sentence(pgshell.audit_log),
    api.ui_sessions(text, int), api.ui_home(uuid), api.session_cast(uuid), api.session_json(uuid), api.ui_audit_verify()
    from public;
grant execute on function api.ui_sessions(text, int), api.session_cast(uuid), api.session_json(uuid), api.ui_audit_verify()
    to pgshell_user, pgshell_auditor, pgshell_admin;
-- The page's first request is anonymous until logged in (as 0003's ui_home).
grant execute on function api.ui_home(uuid) to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
