-- 0018_files: files into and out of a session, with no line-size limit.
--
-- Into a session: a command may carry recorded input, its stdin, stored as a
-- content-addressed blob (pgshell.blobs, like every file's contents).
-- `api.upload(session_id, path, content)` queues the ordinary command
-- `cat > 'PATH'` (through api.submit: history, audit, the environment chain,
-- the session's limits) whose stdin is `content`; the executor feeds the
-- blob to the line's descriptor 0 and replay feeds the same recorded bytes.
-- An upload larger than the `max_upload_bytes` setting stores no bytes: the
-- command is recorded with `input_refused` (the reason), and the executor
-- records it `rejected` with that reason without running anything.
--
-- Out of a session: `api.session_file(session_id, path)` answers the bytes of
-- one file of the session's current environment as a download (a "*/*"
-- media-type handler, as 0014's session_cast), the owner's only.
--
-- Over HTTP (PostgREST or `pg_shell serve`) `content` is a bytea parameter:
-- in JSON or a form, the hex text form `\x0a1b...` (what PostgreSQL's
-- bytea input reads; PostgREST passes it through unchanged).

insert into pgshell.settings (name, value, description) values
    ('max_upload_bytes', '67108864', 'largest file api.upload accepts (a command''s recorded stdin); larger uploads are recorded as refused');

alter table pgshell.commands
    add column input_digest bytea references pgshell.blobs (digest),
    add column input_refused text,
    add constraint commands_input_one check (input_digest is null or input_refused is null);
comment on column pgshell.commands.input_digest is
    'The command''s recorded stdin (a blob), fed to the line''s descriptor 0 when it runs and when it is replayed (0018).';
comment on column pgshell.commands.input_refused is
    'Why the input the client sent was not stored (too large); the command is then recorded rejected with this reason (0018).';
-- Serves the foreign key when the collector deletes blobs.
create index commands_input_idx on pgshell.commands (input_digest) where input_digest is not null;

-- 0010's snapshot with the input (stripped when null, so the snapshots of
-- commands without input are what they were).
create or replace function pgshell.command_snapshot(c pgshell.commands) returns jsonb
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
        'finished_at', pgshell.micros(c.finished_at),
        'input', encode(c.input_digest, 'hex'),
        'input_refused', pgshell.sha256_hex(c.input_refused)))
$$;

-- A path into a session's files as a client names it (absolute, or relative
-- to the session's cwd), checked: not empty, at most 4096 bytes, no control
-- characters (line breaks, tabs, ...; NUL cannot be in a text value at all),
-- no `..` component, naming a file (not `/`, not ending in `/` or `.`).
create function pgshell.check_file_path(p text) returns text
language plpgsql immutable set search_path = pg_catalog, pg_temp as $$
begin
    if p is null or p = '' then
        raise exception 'the path is empty' using errcode = '22023', hint = 'name a file: /dir/name, or name for the working directory';
    end if;
    if octet_length(p) > 4096 then
        raise exception 'the path is % bytes long (at most 4096)', octet_length(p) using errcode = '22023';
    end if;
    if p ~ '[\x01-\x1f\x7f]' then
        raise exception 'the path % holds a control character', to_json(p)::text using errcode = '22023';
    end if;
    if '..' = any(string_to_array(p, '/')) then
        raise exception 'the path % has a `..` component', to_json(p)::text
            using errcode = '22023', hint = 'name the file directly';
    end if;
    if right(p, 1) = '/' or p = '.' or right(p, 2) = '/.' then
        raise exception 'the path % names a directory', to_json(p)::text
            using errcode = '22023', hint = 'name the file: /dir/name';
    end if;
    return p;
end $$;

-- A word the shell reads back as `p`: single-quoted, each ' as '\''.
create function pgshell.sh_quote(p text) returns text
language sql immutable strict set search_path = pg_catalog, pg_temp as $$
    select '''' || replace(p, '''', '''\''''') || ''''
$$;

-- Writes `content` to `path` in the session as the recorded command
-- `cat > 'PATH'` with `content` as its stdin; returns the command's id.
create function api.upload(session_id uuid, path text, content bytea) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    max_bytes bigint := pgshell.setting('max_upload_bytes')::bigint;
    n bigint := octet_length(content);
    v_digest bytea; v_refused text; v_id bigint;
begin
    if content is null then
        raise exception 'content is missing' using errcode = '22004';
    end if;
    perform pgshell.check_file_path(path);
    if n > max_bytes then
        v_refused := format('upload refused: %s bytes is more than the max_upload_bytes setting allows (%s); nothing was written', n, max_bytes);
    else
        v_digest := sha256(content);
        insert into pgshell.blobs (digest, size, data) values (v_digest, n, content) on conflict (digest) do nothing;
    end if;
    v_id := api.submit(s.id, 'cat > ' || pgshell.sh_quote(path));
    update pgshell.commands set input_digest = v_digest, input_refused = v_refused where id = v_id;
    perform pgshell.audit('command.input', s.id, v_id, jsonb_strip_nulls(jsonb_build_object(
        'path', path, 'bytes', n, 'digest', encode(v_digest, 'hex'), 'refused', v_refused)));
    return v_id;
end $$;

-- 0015's directory entries; a file's `child` is now its contents' blob
-- digest (api.session_files reads only directories' children).
create or replace function pgshell.tree_entries(p_object bytea, p_depth int default 0)
returns table (name text, kind text, child bytea)
language plpgsql stable set search_path = pg_catalog, pg_temp as $$
declare d bytea; pos int; n bigint; len bigint; k int; t int; sub bytea;
begin
    if p_depth > 32 then
        raise exception 'tree object nesting too deep' using errcode = 'XX001';
    end if;
    select o.data into d from pgshell.tree_objects o where o.digest = p_object;
    if d is null then
        raise exception 'tree object % is missing', encode(p_object, 'hex') using errcode = 'XX001';
    end if;
    if length(d) < 6 or substring(d from 1 for 4) <> '\x50475431'::bytea then
        raise exception 'tree object % is not PGT1', encode(p_object, 'hex') using errcode = 'XX001';
    end if;
    t := get_byte(d, 4);
    select v.val, v.next into n, pos from pgshell.pgt1_varint(d, 5) v;
    for i in 1..n loop
        select v.val, v.next into len, pos from pgshell.pgt1_varint(d, pos) v;
        if t = 78 then -- 'N': (last name, child)*
            pos := pos + len::int;
            sub := substring(d from pos + 1 for 32);
            pos := pos + 32;
            return query select e.name, e.kind, e.child from pgshell.tree_entries(sub, p_depth + 1) e;
        elsif t = 76 then -- 'L': entries
            name := convert_from(substring(d from pos + 1 for len::int), 'UTF8');
            pos := pos + len::int;
            k := get_byte(d, pos);
            pos := pos + 1;
            child := null;
            if k = 102 then -- 'f' mode mtime size digest
                pos := (pgshell.pgt1_varint(d, pos)).next;
                pos := (pgshell.pgt1_varint(d, pos)).next;
                pos := (pgshell.pgt1_varint(d, pos)).next;
                child := substring(d from pos + 1 for 32);
                pos := pos + 32;
                kind := 'file';
            elsif k = 100 then -- 'd' mode mtime digest
                pos := (pgshell.pgt1_varint(d, pos)).next;
                pos := (pgshell.pgt1_varint(d, pos)).next;
                child := substring(d from pos + 1 for 32);
                pos := pos + 32;
                kind := 'dir';
            elsif k = 108 then -- 'l' target
                select v.val, v.next into len, pos from pgshell.pgt1_varint(d, pos) v;
                pos := pos + len::int;
                kind := 'symlink';
            else
                raise exception 'tree object % has an entry of unknown kind %', encode(p_object, 'hex'), k using errcode = 'XX001';
            end if;
            return next;
        else
            raise exception 'tree object % is of unknown type %', encode(p_object, 'hex'), t using errcode = 'XX001';
        end if;
    end loop;
end $$;

-- A Content-Disposition for a file called `name`: an ASCII fallback (other
-- bytes as `_`) and the exact name percent-encoded (RFC 6266 / 8187).
create function pgshell.attachment_disposition(name text) returns text
language plpgsql immutable strict set search_path = pg_catalog, pg_temp as $$
declare b bytea := convert_to(name, 'UTF8'); enc text := ''; c int;
begin
    for i in 0 .. length(b) - 1 loop
        c := get_byte(b, i);
        if chr(c) ~ '^[A-Za-z0-9._~-]$' and c < 128 then
            enc := enc || chr(c);
        else
            enc := enc || '%' || upper(lpad(to_hex(c), 2, '0'));
        end if;
    end loop;
    return format('attachment; filename="%s"; filename*=UTF-8''''%s',
                  regexp_replace(name, '[^A-Za-z0-9._ -]', '_', 'g'), enc);
end $$;

-- The bytes of the file at `path` (absolute, or relative to the session's
-- cwd) in the session's current environment, as a download. The owner's
-- only (anyone else gets 0015's 'session not found'); a path that names
-- nothing is PT404, a directory or symbolic link PT409 (symbolic links are
-- not followed), a hostile path 22023.
create function api.session_file(session_id uuid, path text) returns api."*/*"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    e pgshell.environments;
    full_path text;
    parts text[];
    cur bytea; k text; blob bytea; data bytea;
    n int;
    hit boolean := true;
begin
    perform pgshell.check_file_path(path);
    if s.head_env is not null then
        select * into e from pgshell.environments en where en.digest = s.head_env;
        if e.root is null then
            raise exception 'the files of session % are stored in the form from before migration 0004, which this download does not read', s.id
                using errcode = '0A000', hint = 'a command that changes a file stores them as tree objects';
        end if;
    end if;
    full_path := case when left(path, 1) = '/' then path else rtrim(coalesce(e.cwd, '/'), '/') || '/' || path end;
    parts := array(select p from unnest(string_to_array(full_path, '/')) p where p <> '' and p <> '.');
    n := cardinality(parts);
    cur := e.root;
    k := 'dir';
    for i in 1 .. n loop
        if k <> 'dir' or cur is null then
            hit := false;
            exit;
        end if;
        select t.kind, t.child into k, cur from pgshell.tree_entries(cur) t where t.name = parts[i];
        if not found then
            hit := false;
            exit;
        end if;
    end loop;
    if not hit or n = 0 then
        raise exception 'no file % in the session', to_json(full_path)::text using errcode = 'PT404';
    end if;
    if k <> 'file' then
        raise exception '% is a %, not a file', to_json(full_path)::text, case k when 'dir' then 'directory' else 'symbolic link' end
            using errcode = 'PT409', hint = 'symbolic links are not followed: name the file they point to';
    end if;
    select b.data into data from pgshell.blobs b where b.digest = cur;
    if data is null then
        raise exception 'the contents of % are missing from storage', to_json(full_path)::text using errcode = 'XX001';
    end if;
    perform set_config('response.headers', json_build_array(
        json_build_object('Content-Type', 'application/octet-stream'),
        json_build_object('Content-Disposition', pgshell.attachment_disposition(parts[n])))::text, true);
    return data;
end $$;

-- The web UI's upload: the file `name` (relative to the session's cwd, or
-- absolute) with `content` (hex text in the form); the new command's entry.
create function api.ui_upload(session_id uuid, name text, content bytea) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare v_id bigint;
begin
    perform pgshell.owned_session(session_id);
    begin
        v_id := api.upload(session_id, name, content);
    exception when string_data_right_truncation or object_not_in_prerequisite_state or invalid_parameter_value
                   or program_limit_exceeded or null_value_not_allowed or sqlstate 'PT409' then
        return format('<div class="cmd st-refused"><div class="line"><span class="prompt">$</span> '
                      '<span class="text">upload %s</span></div><pre class="err">%s</pre></div>',
                      pgshell.html_escape(left(coalesce(name, ''), 200)), pgshell.html_escape(sqlerrm));
    end;
    return pgshell.ui_command(api.command(v_id), true);
end $$;

-- 0014's terminal view with the file tools: upload into the working
-- directory (the owner of an open session) and download a file (the owner).
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
    files text := '';
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

    if can_act then
        -- html/app.js reads the chosen file, puts its bytes (hex) in `content`
        -- and its name in `name`, then sends the form (event pg-upload).
        files := files || format(
            '<form class="upload" id="upload" hx-post="rpc/ui_upload" hx-trigger="pg-upload" hx-target="#cmds" hx-swap="beforeend">'
            '<input type="hidden" name="session_id" value="%s">'
            '<input type="hidden" name="name" value=""><input type="hidden" name="content" value="">'
            '<label for="upload-file">upload a file into the working directory</label>'
            '<input type="file" id="upload-file" required>'
            '<button type="submit">upload</button></form>', s.id);
    end if;
    if s.owner_id = u.id then
        files := files || format(
            '<form class="download" id="download" action="rpc/session_file" method="get">'
            '<input type="hidden" name="session_id" value="%s">'
            '<label for="download-path">download a file</label>'
            '<input id="download-path" name="path" autocomplete="off" spellcheck="false" required placeholder="path, e.g. notes.txt">'
            '<button type="submit">download</button></form>', s.id);
    end if;
    if files <> '' then
        files := '<div class="files">' || files || '</div>';
    end if;

    return format(
        '<section class="term" id="term" data-session="%s">'
        '<header class="bar"><h2>%s</h2><span class="owner">%s</span>%s<span class="tools">%s</span></header>'
        '%s<div class="cmds" id="cmds">%s</div>%s</section>',
        s.id,
        coalesce(nullif(pgshell.html_escape(s.title), ''), '<i>untitled</i>'),
        pgshell.html_escape(owner_name),
        case when s.closed_at is null then '' else '<span class="badge">closed</span>' end,
        tools,
        files,
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

revoke execute on function pgshell.check_file_path(text), pgshell.sh_quote(text), pgshell.attachment_disposition(text),
    api.upload(uuid, text, bytea), api.session_file(uuid, text), api.ui_upload(uuid, text, bytea) from public;
grant execute on function api.upload(uuid, text, bytea), api.session_file(uuid, text), api.ui_upload(uuid, text, bytea)
    to pgshell_user, pgshell_auditor, pgshell_admin;
