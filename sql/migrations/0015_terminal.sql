-- 0015: the client's terminal, recorded with each command, and a session's
-- file names by prefix (the CLI's Tab completion).
--
-- A client says what terminal it is: {"tty": true|false, "term": "xterm-256color",
-- "columns": 120, "lines": 40} (term, columns and lines optional). The
-- executor copies it into the command's limits (`Limits::terminal`), where it
-- is part of what the command ran under: recorded, covered by the audit
-- snapshot's limits digest, and what a replay runs with. Without one (null,
-- the default: the web UI, older clients) nothing changes.

create function pgshell.valid_terminal(t jsonb) returns boolean
language sql immutable parallel safe set search_path = pg_catalog, pg_temp as $$
    -- Never null (a check constraint passes on null): false for anything else.
    select case when t is null or jsonb_typeof(t) <> 'object' then false else coalesce(
           jsonb_typeof(t -> 'tty') = 'boolean'
       and not exists (select 1 from jsonb_object_keys(t) k where k not in ('tty', 'term', 'columns', 'lines'))
       and (not t ? 'term' or (jsonb_typeof(t -> 'term') = 'string'
                               and (t ->> 'term') ~ '^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$'))
       and (not t ? 'columns' or (jsonb_typeof(t -> 'columns') = 'number'
                                  and (t ->> 'columns') ~ '^[0-9]{1,5}$'
                                  and (t ->> 'columns')::int between 1 and 10000))
       and (not t ? 'lines' or (jsonb_typeof(t -> 'lines') = 'number'
                                and (t ->> 'lines') ~ '^[0-9]{1,5}$'
                                and (t ->> 'lines')::int between 1 and 10000)), false) end
$$;

alter table pgshell.commands
    add column terminal jsonb constraint commands_terminal_valid check (terminal is null or pgshell.valid_terminal(terminal));

-- 0010's submit with the terminal. The old two-argument form is dropped,
-- not overloaded (a call with two arguments would be ambiguous); calls that
-- pass session_id and line alone, positionally or by name, are unchanged.
drop function api.submit(uuid, text);
create function api.submit(session_id uuid, line text, terminal jsonb default null) returns bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    max_bytes int := pgshell.setting('max_line_bytes')::int;
    max_cmds int := pgshell.setting('max_commands_per_session')::int;
    t jsonb := nullif(submit.terminal, 'null'::jsonb);
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
    if t is not null and not pgshell.valid_terminal(t) then
        raise exception 'terminal is not {"tty": boolean, "term": name, "columns": 1..10000, "lines": 1..10000}'
            using errcode = '22023', hint = 'term is letters, digits and ._+- (at most 64); only tty is required';
    end if;
    update pgshell.sessions set next_seq = next_seq + 1 where id = s.id returning next_seq into v_seq;
    if v_seq > max_cmds then
        raise exception 'session % holds the maximum of % commands', s.id, max_cmds using errcode = 'PT409';
    end if;
    insert into pgshell.commands (session_id, seq, line, submitted_by, terminal)
    values (s.id, v_seq, line, s.owner_id, t) returning id into v_id;
    perform pgshell.audit('command.submitted', s.id, v_id,
        json_build_object('line', line)::jsonb
        || case when t is null then '{}'::jsonb else jsonb_build_object('terminal', t) end);
    perform pg_notify('pg_shell_queue', s.id::text);
    return v_id;
end $$;

-- ---------------------------------------------------------------------------
-- A session's file names (PGT1 tree objects read in SQL; ARCHITECTURE.md
-- "Tree objects" is the format)
-- ---------------------------------------------------------------------------
-- An unsigned LEB128 varint of `b` at 0-based `pos`: its value (wrapping past
-- 63 bits; only lengths are used) and the position after it.
create function pgshell.pgt1_varint(b bytea, pos int, out val bigint, out next int)
language plpgsql immutable strict set search_path = pg_catalog, pg_temp as $$
declare byte int; shift int := 0;
begin
    val := 0;
    loop
        if pos >= length(b) then
            raise exception 'truncated tree object' using errcode = 'XX001';
        end if;
        byte := get_byte(b, pos);
        pos := pos + 1;
        if shift < 63 then
            val := val | ((byte & 127)::bigint << shift);
        end if;
        exit when byte < 128;
        shift := shift + 7;
        if shift > 63 then
            raise exception 'bad varint in a tree object' using errcode = 'XX001';
        end if;
    end loop;
    next := pos;
end $$;

-- The entries of the directory whose top object is `p_object`, in stored
-- (byte) order: name, kind (file | dir | symlink), and a directory's object.
create function pgshell.tree_entries(p_object bytea, p_depth int default 0)
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

-- The names in the session's current files that complete `prefix` (a path
-- as typed: relative to the session's cwd, or absolute): the entries of the
-- directory it names up to its last '/' whose names start with what follows,
-- in byte order, at most `max_names`. The owner's only (what the caller may
-- not list answers as a missing session); a directory that does not exist
-- gives no names. `..` and `.` are resolved, symlinks are not followed.
create function api.session_files(session_id uuid, prefix text default '', max_names int default 200)
returns table (name text, kind text)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    s pgshell.sessions := pgshell.owned_session(session_id);
    e pgshell.environments;
    p text := coalesce(prefix, '');
    path text; dir text; base text; part text;
    cur bytea; up bytea[] := '{}';
begin
    if max_names is null or max_names < 1 or max_names > 1000 then
        raise exception 'max_names must be between 1 and 1000' using errcode = '22023';
    end if;
    if octet_length(p) > 4096 then
        raise exception 'prefix too long: % bytes (limit 4096)', octet_length(p) using errcode = '22001';
    end if;
    if s.head_env is null then
        return; -- no command ran yet: the initial environment has no files
    end if;
    select * into e from pgshell.environments en where en.digest = s.head_env;
    if e.root is null then
        raise exception 'the files of session % are stored in the form from before migration 0004, which this listing does not read', s.id
            using errcode = '0A000', hint = 'a command that changes a file stores them as tree objects';
    end if;
    path := case when left(p, 1) = '/' then p else rtrim(e.cwd, '/') || '/' || p end;
    dir := coalesce(substring(path from '^(.*)/'), '');
    base := substring(path from '[^/]*$');
    cur := e.root;
    foreach part in array string_to_array(dir, '/') loop
        continue when part = '' or part = '.';
        if part = '..' then
            if cardinality(up) > 0 then
                cur := up[cardinality(up)];
                up := up[1:cardinality(up) - 1];
            end if;
            continue;
        end if;
        up := up || cur;
        cur := (select t.child from pgshell.tree_entries(cur) t where t.name = part and t.kind = 'dir');
        if cur is null then
            return;
        end if;
    end loop;
    return query
        select t.name, t.kind from pgshell.tree_entries(cur) t
        where starts_with(t.name, base)
        limit max_names;
end $$;

-- The names of the enabled programs, for completing a command name (what
-- `help` lists to anyone who can run a command).
create function api.program_names() returns setof text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pgshell.caller();
    return query select p.name from pgshell.programs p where p.enabled order by p.name collate "C";
end $$;

revoke execute on function api.program_names() from public;
grant execute on function api.program_names() to pgshell_user, pgshell_auditor, pgshell_admin;

revoke execute on function pgshell.valid_terminal(jsonb), pgshell.pgt1_varint(bytea, int),
    pgshell.tree_entries(bytea, int), api.submit(uuid, text, jsonb), api.session_files(uuid, text, int) from public;
grant execute on function pgshell.valid_terminal(jsonb) to pgshell_user, pgshell_auditor, pgshell_admin, pgshell_executor;
grant execute on function api.submit(uuid, text, jsonb), api.session_files(uuid, text, int)
    to pgshell_user, pgshell_auditor, pgshell_admin;
