-- 0003_web: log-in, web sessions, the pre-request hook and the HTML (htmx) UI.
--
-- Applied as pgshell_owner, like 0001. Served by PostgREST or `pg_shell serve`
-- (docs/postgrest.md):
--
--   * api.login / api.logout       JSON endpoints; the session travels in an
--                                  HttpOnly, SameSite=Strict cookie set through
--                                  `response.headers`.
--   * pgshell.pre_request()        maps the cookie to the user: sets
--                                  request.jwt.claims (so pgshell.caller() sees
--                                  the user) and switches to the user's database
--                                  role, exactly as a JWT with that role would.
--   * api.ui_*                     HTML fragments (return type api."text/html",
--                                  a PostgREST media type handler) for the page
--                                  in html/. Every piece of user-controlled text
--                                  goes through pgshell.html_escape.

-- ---------------------------------------------------------------------------
-- Web sessions (log-in cookies)
-- ---------------------------------------------------------------------------
create table pgshell.web_sessions (
    token_hash   bytea primary key,             -- sha256 of the cookie value; the token itself is never stored
    user_id      bigint not null references pgshell.users (id) on delete cascade,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    user_agent   text,                          -- from request.headers, for the audit trail
    constraint web_sessions_token_hash_len check (length(token_hash) = 32)
);
create index web_sessions_user_idx on pgshell.web_sessions (user_id, expires_at);

insert into pgshell.settings (name, value, description) values
    ('web_session_seconds', '43200', 'lifetime of a web log-in (cookie Max-Age and server-side expiry)'),
    ('web_cookie_secure',   'false', 'add the Secure attribute to the session cookie (set true behind HTTPS)');

-- pgcrypto lives wherever its extension was created (usually public); bind the
-- bcrypt helpers to that schema once, so no function needs public on its path.
do $$
declare s name;
begin
    select n.nspname into strict s from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgcrypto';
    execute format($f$
        create function pgshell.bcrypt(p_password text, p_salt_or_hash text) returns text
        language sql volatile set search_path = pg_catalog, pg_temp
        as 'select %1$I.crypt(p_password, p_salt_or_hash)'$f$, s);
    execute format($f$
        create function pgshell.bcrypt_salt() returns text
        language sql volatile set search_path = pg_catalog, pg_temp
        as 'select %1$I.gen_salt(''bf'', 8)'$f$, s);
end $$;

-- Checks a password in (roughly) constant time: crypt runs whether or not the
-- user exists, has a password or is disabled. Returns the user, or null.
create function pgshell.check_password(p_name text, p_password text) returns pgshell.users
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users; h text;
begin
    select * into u from pgshell.users where name = p_name;
    h := coalesce(u.password_hash, pgshell.bcrypt_salt());
    if pgshell.bcrypt(coalesce(p_password, ''), h) = h and u.password_hash is not null and not u.disabled then
        return u;
    end if;
    return null;
end $$;

create function pgshell.cookie_header(p_token text, p_max_age int) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select format('pgshell_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%s', p_token, p_max_age)
        || case when coalesce(pgshell.setting('web_cookie_secure')::boolean, false) then '; Secure' else '' end
$$;

-- The live web session a cookie value names: (user name, user role), or no row.
create function pgshell.web_session_user(p_token text)
returns table (name text, role pgshell.user_role)
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select u.name, u.role
    from pgshell.web_sessions w join pgshell.users u on u.id = w.user_id
    where w.token_hash = sha256(convert_to(p_token, 'UTF8')) and w.expires_at > now() and not u.disabled
$$;

create function pgshell.request_cookie() returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select nullif(nullif(current_setting('request.cookies', true), ''), '{}')::json ->> 'pgshell_session'
$$;

-- Opens a web session for a user whose password was checked: stores the token's
-- hash, sets the cookie and makes the user the caller for the rest of the request.
create function pgshell.start_web_session(u pgshell.users) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''); -- 244 random bits
    lifetime int := coalesce(pgshell.setting('web_session_seconds')::int, 43200);
    expires timestamptz := now() + make_interval(secs => lifetime);
begin
    delete from pgshell.web_sessions where user_id = u.id and expires_at <= now();
    insert into pgshell.web_sessions (token_hash, user_id, expires_at, user_agent)
    values (sha256(convert_to(token, 'UTF8')), u.id, expires,
            left(nullif(current_setting('request.headers', true), '')::json ->> 'user-agent', 300));
    perform set_config('response.headers',
        json_build_array(json_build_object('Set-Cookie', pgshell.cookie_header(token, lifetime)))::text, true);
    perform set_config('request.jwt.claims',
        json_build_object('sub', u.name, 'role', 'pgshell_' || u.role::text)::text, true);
    perform pgshell.audit('user.login', null, null, json_build_object('user', u.name)::jsonb);
    return json_build_object('user', u.name, 'role', u.role, 'expires_at', expires);
end $$;

-- A failed log-in is audited and answered with HTTP 401 through
-- response.status instead of an exception: an exception would roll the audit
-- row back (PostgREST and `pg_shell serve` run each request in one transaction).
-- The body has PostgREST's error shape with code PT401, the code PostgREST maps
-- to 401 when it is raised.
create function pgshell.login_failed(p_name text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    insert into pgshell.audit_log (actor, event, details)
    values (coalesce(pgshell.caller_name(), 'anonymous'), 'user.login_failed',
            jsonb_build_object('user', p_name,
                'user_agent', left(nullif(current_setting('request.headers', true), '')::json ->> 'user-agent', 300)));
    perform set_config('response.status', '401', true);
    return json_build_object('code', 'PT401', 'message', 'invalid user name or password',
                             'details', null, 'hint', null);
end $$;

-- ---------------------------------------------------------------------------
-- Log-in API (JSON)
-- ---------------------------------------------------------------------------
create function api.login(username text, password text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.check_password(username, password);
begin
    if u.id is null then
        return pgshell.login_failed(username);
    end if;
    return pgshell.start_web_session(u);
end $$;
comment on function api.login(text, text) is
    'Checks the password, sets the HttpOnly session cookie; a wrong password answers 401 {"code":"PT401"} and is audited.';

create function api.logout() returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare tok text := pgshell.request_cookie(); n int := 0; who text;
begin
    if tok is not null then
        delete from pgshell.web_sessions w using pgshell.users u
        where w.token_hash = sha256(convert_to(tok, 'UTF8')) and u.id = w.user_id
        returning u.name into who;
        get diagnostics n = row_count;
    end if;
    perform set_config('response.headers',
        json_build_array(json_build_object('Set-Cookie', pgshell.cookie_header('', 0)))::text, true);
    if n > 0 then
        insert into pgshell.audit_log (actor, event, details)
        values (who, 'user.logout', jsonb_build_object('user', who));
    end if;
    perform set_config('request.jwt.claims', '', true);
    return json_build_object('logged_out', n > 0);
end $$;

-- ---------------------------------------------------------------------------
-- Pre-request hook (PostgREST db-pre-request; `pg_shell serve` calls it too)
-- ---------------------------------------------------------------------------
-- Runs as the role the gateway switched to (pgshell_anon without a JWT). A
-- bearer JWT's `sub` is already in request.jwt.claims and wins. Otherwise a
-- live session cookie makes its user the caller and switches to the user's
-- database role (pgshell_user / _auditor / _admin) for the rest of the
-- transaction -- allowed because the connecting (session) role, the
-- authenticator, is a member of those roles. SECURITY INVOKER on purpose:
-- PostgreSQL refuses SET ROLE inside a SECURITY DEFINER function.
create function pgshell.pre_request() returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare tok text; who record; r text;
begin
    if pgshell.caller_name() is not null then
        return;
    end if;
    tok := pgshell.request_cookie();
    if tok is null then
        return;
    end if;
    select * into who from pgshell.web_session_user(tok);
    if not found then
        return;  -- unknown or expired cookie: stays anonymous
    end if;
    r := 'pgshell_' || who.role::text;
    perform set_config('request.jwt.claims', json_build_object('sub', who.name, 'role', r)::text, true);
    if current_user::text <> r then
        begin
            perform set_config('role', r, true);
        exception when insufficient_privilege then
            raise exception 'pg_shell: the gateway''s database role cannot switch to %', r
                using errcode = '42501',
                      hint = 'grant pgshell_anon, pgshell_user, pgshell_auditor and pgshell_admin to the authenticator role (docs/postgrest.md)';
        end;
    end if;
end $$;

-- ---------------------------------------------------------------------------
-- HTML
-- ---------------------------------------------------------------------------
-- PostgREST serves a function returning a domain named like a media type with
-- that media type (Media Type Handlers); the domain may live in any schema,
-- the function must be in an exposed one. It cannot return SETOF.
create domain api."text/html" as text;

create function pgshell.html_escape(t text) returns text
language sql immutable parallel safe set search_path = pg_catalog, pg_temp as $$
    select replace(replace(replace(replace(replace(coalesce(t, ''),
        '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

-- The caller, or null when nobody is logged in (pgshell.caller() raises).
create function pgshell.caller_or_null() returns pgshell.users
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select * from pgshell.users where name = pgshell.caller_name() and not disabled
$$;

create function pgshell.api_has(p_signature text) returns boolean
language sql stable set search_path = pg_catalog, pg_temp as $$
    select to_regprocedure(p_signature) is not null
$$;

create function pgshell.ui_ms(us numeric) returns text
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select case when us is null then null
                when us < 1000000 then round(us / 1000.0, 1)::text || ' ms'
                else round(us / 1000000.0, 2)::text || ' s' end
$$;

-- One command, from its api.command JSON. p_can_act: the caller owns the open
-- session (may cancel and fork). Unfinished commands poll every 500 ms.
create function pgshell.ui_command(c json, p_can_act boolean) returns text
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

create function pgshell.ui_nav(u pgshell.users) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select format(
        '<nav class="top"><strong class="brand">pg_shell</strong>'
        '<button class="link" hx-get="rpc/ui_sessions" hx-target="#main">sessions</button>%s'
        '<span class="who">%s <small>(%s)</small></span>'
        '<button class="link" hx-post="rpc/ui_logout" hx-target="#app">log out</button></nav>',
        case when u.role in ('auditor', 'admin')
             then '<button class="link" hx-get="rpc/ui_audit" hx-target="#main">audit log</button>' else '' end
        || case when u.role = 'admin'
             then '<button class="link" hx-get="rpc/ui_admin" hx-target="#main">admin</button>' else '' end,
        pgshell.html_escape(u.name), pgshell.html_escape(u.role::text))
$$;

create function pgshell.ui_login_form(p_error text, p_username text default null) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select format(
        '<form class="login" hx-post="rpc/ui_login" hx-target="#app">'
        '<h1>pg_shell</h1>'
        '<label>User <input name="username" autocomplete="username" value="%s"%s required></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password"%s required></label>'
        '<button type="submit">Log in</button>%s</form>',
        pgshell.html_escape(p_username),
        case when p_username is null then ' autofocus' else '' end,
        case when p_username is null then '' else ' autofocus' end,
        case when p_error is null then '' else format('<p class="error" role="alert">%s</p>', pgshell.html_escape(p_error)) end)
$$;

-- ---------------------------------------------------------------------------
-- HTML endpoints
-- ---------------------------------------------------------------------------
-- The page shell's first request: the app for a logged-in caller, else the log-in form.
create function api.ui_home() returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller_or_null();
begin
    if u.id is null then
        return pgshell.ui_login_form(null);
    end if;
    return pgshell.ui_nav(u) || '<main id="main">' || api.ui_sessions() || '</main>';
end $$;

create function api.ui_login(username text, password text) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.check_password(username, password);
begin
    if u.id is null then
        perform pgshell.login_failed(username);
        -- htmx swaps only 2xx answers: show the form again with the error.
        perform set_config('response.status', '200', true);
        return pgshell.ui_login_form('Invalid user name or password.', username);
    end if;
    perform pgshell.start_web_session(u);
    return api.ui_home();
end $$;

create function api.ui_logout() returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.logout();
    return pgshell.ui_login_form(null);
end $$;

create function api.ui_sessions() returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    sees_all boolean := u.role in ('auditor', 'admin');
    can_fork boolean := pgshell.api_has('api.fork_session(bigint)');
    rows text;
begin
    select string_agg(format(
        '<tr class="%s"><td><a href="#" hx-get="rpc/ui_session?session_id=%s" hx-target="#main">%s</a></td>%s'
        '<td class="num">%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td class="actions">%s%s</td></tr>',
        case when s.closed_at is null then 'open' else 'closed' end,
        s.id, coalesce(nullif(pgshell.html_escape(s.title), ''), '<i>untitled</i>'),
        case when sees_all then format('<td>%s</td>', pgshell.html_escape(o.name)) else '' end,
        s.next_seq,
        pgshell.html_escape(coalesce(e.cwd, '/')),
        to_char(s.created_at, 'YYYY-MM-DD HH24:MI'),
        case when s.closed_at is null then 'open' else 'closed' end,
        case when can_fork and s.owner_id = u.id and last_cmd.id is not null
             then format('<button class="link" hx-post="rpc/ui_fork" hx-vals=''{"command_id": %s}'' hx-target="#main">fork</button> ', last_cmd.id)
             else '' end,
        case when s.owner_id = u.id and s.closed_at is null
             then format('<button class="link" hx-post="rpc/ui_close_session" hx-vals=''{"session_id": "%s"}'' '
                         'hx-target="#main" hx-confirm="Close this session?">close</button>', s.id)
             else '' end),
        '' order by s.created_at desc, s.id)
    into rows
    from pgshell.sessions s
    join pgshell.users o on o.id = s.owner_id
    left join pgshell.environments e on e.digest = s.head_env
    left join lateral (select c.id from pgshell.commands c where c.session_id = s.id and c.status = 'done'
                       order by c.id desc limit 1) last_cmd on true
    where s.owner_id = u.id or sees_all;
    rows := coalesce(rows, '');

    return format(
        '<section class="sessions"><h2>%s</h2>%s'
        '<table><thead><tr><th>title</th>%s<th>cmds</th><th>cwd</th><th>created</th><th>state</th><th></th></tr></thead>'
        '<tbody>%s</tbody></table></section>',
        case when sees_all then 'All sessions' else 'Your sessions' end,
        case when u.role = 'auditor' then ''
             else '<form class="new" hx-post="rpc/ui_new_session" hx-target="#main">'
                  '<input name="title" placeholder="title (optional)" maxlength="200" aria-label="session title">'
                  '<button type="submit">New session</button></form>' end,
        case when sees_all then '<th>owner</th>' else '' end,
        case when rows = '' then format('<tr><td colspan="%s" class="empty">no sessions yet</td></tr>',
                                        case when sees_all then 7 else 6 end)
             else rows end);
end $$;

-- The terminal view of a session: every command, and the input line for its owner.
create function api.ui_session(session_id uuid) returns api."text/html"
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

    if pgshell.api_has('api.request_replay(uuid)') then
        tools := tools || format('<button class="link" hx-post="rpc/ui_replay" hx-vals=''{"session_id": "%s"}'' '
                                 'hx-target="#replay">replay</button><span id="replay" aria-live="polite"></span>', s.id);
    end if;
    if pgshell.api_has('api.export_json(uuid)') then
        tools := tools || format('<a href="rpc/export_json?session_id=%s" download="session-%s.json">export JSON</a>', s.id, s.id);
    end if;
    if pgshell.api_has('api.export_asciicast(uuid)') then
        tools := tools || format('<a href="rpc/export_asciicast?session_id=%s" download="session-%s.cast">asciicast</a>', s.id, s.id);
    end if;
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
            '<form class="input" hx-post="rpc/ui_submit" hx-target="#cmds" hx-swap="beforeend show:bottom" '
            'hx-on::after-request="if (event.detail.successful) { this.reset(); } this.line.focus()">'
            '<input type="hidden" name="session_id" value="%s">'
            '<label for="line" class="prompt"><span id="cwd">%s</span>$</label>'
            '<input id="line" name="line" autocomplete="off" autocapitalize="off" spellcheck="false" autofocus '
            'aria-label="command line" required></form>', s.id, pgshell.html_escape(cwd))
        when u.role = 'auditor' then '<p class="note">Read-only: auditors run nothing.</p>'
        else '' end);
end $$;

-- One command (the polling target). When it is finished, the prompt's cwd is
-- refreshed out of band.
create function api.ui_command(id bigint) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    u pgshell.users := pgshell.caller();
    c json := api.command(id);
    s pgshell.sessions := pgshell.readable_session((c ->> 'session_id')::uuid);
    h text := pgshell.ui_command(c, s.owner_id = u.id and s.closed_at is null);
begin
    if c ->> 'status' in ('done', 'cancelled') and s.owner_id = u.id then
        h := h || format('<span id="cwd" hx-swap-oob="true">%s</span>',
            pgshell.html_escape(coalesce((select e.cwd from pgshell.environments e where e.digest = s.head_env), '/')));
    end if;
    return h;
end $$;

create function api.ui_new_session(title text default null) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare sid uuid;
begin
    -- Two statements: the stable ui_session must run under a snapshot that sees the new row.
    sid := api.create_session(nullif(btrim(title), ''));
    return api.ui_session(sid);
end $$;

-- Submits a line; answers the new command's fragment (appended to #cmds).
-- A refused line (too long, closed session, ...) comes back as an error
-- fragment; a foreign or unknown session stays an error (42501).
create function api.ui_submit(session_id uuid, line text) returns api."text/html"
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
                   or program_limit_exceeded or null_value_not_allowed then
        return format('<div class="cmd st-refused"><div class="line"><span class="prompt">$</span> '
                      '<span class="text">%s</span></div><pre class="err">%s</pre></div>',
                      pgshell.html_escape(left(line, 200)), pgshell.html_escape(sqlerrm));
    end;
    return pgshell.ui_command(api.command(v_id), true);
end $$;

create function api.ui_cancel(id bigint) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.cancel(id);
    return api.ui_command(id);
end $$;

create function api.ui_close_session(session_id uuid) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.close_session(session_id);
    return api.ui_sessions();
end $$;

-- Fork (issue 3's api.fork_session): a new session from the state after a command.
create function api.ui_fork(command_id bigint) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare sid uuid;
begin
    perform pgshell.caller();
    if not pgshell.api_has('api.fork_session(bigint)') then
        raise exception 'fork is not available in this version' using errcode = '0A000';
    end if;
    execute 'select api.fork_session($1)' into sid using command_id;
    return api.ui_session(sid);
end $$;

-- Replay (issue 3's api.request_replay / api.replay): the verdict, polled until known.
create function api.ui_replay_status(id bigint) returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare r json; d json; v text;
begin
    perform pgshell.caller();
    if not pgshell.api_has('api.replay(bigint)') then
        raise exception 'replay is not available in this version' using errcode = '0A000';
    end if;
    execute 'select api.replay($1)' into r using id;
    if r ->> 'status' in ('queued', 'running') then
        return format('<span class="replay pending" hx-get="rpc/ui_replay_status?id=%s" hx-trigger="every 500ms" '
                      'hx-swap="outerHTML">replay %s…</span>', id, pgshell.html_escape(r ->> 'status'));
    end if;
    v := r ->> 'verdict';
    d := r -> 'first_divergence';
    return format('<span class="replay v-%s" id="replay-result">replay: <strong>%s</strong> (%s of %s commands)%s</span>',
        pgshell.html_escape(v), pgshell.html_escape(v),
        pgshell.html_escape(coalesce(r ->> 'verified', '?')), pgshell.html_escape(coalesce(r ->> 'commands', '?')),
        case when d is null or json_typeof(d) = 'null' then ''
             else format(' — first divergence at #%s, %s: recorded <code>%s</code>, replayed <code>%s</code>',
                         pgshell.html_escape(d ->> 'seq'), pgshell.html_escape(d ->> 'field'),
                         pgshell.html_escape(left(d ->> 'recorded', 200)),
                         pgshell.html_escape(left(d ->> 'replayed', 200))) end);
end $$;

create function api.ui_replay(session_id uuid) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare rid bigint;
begin
    perform pgshell.readable_session(session_id);
    if not pgshell.api_has('api.request_replay(uuid)') then
        raise exception 'replay is not available in this version' using errcode = '0A000';
    end if;
    execute 'select api.request_replay($1)' into rid using session_id;
    return format('<span class="replay pending" hx-get="rpc/ui_replay_status?id=%s" hx-trigger="load delay:300ms" '
                  'hx-swap="outerHTML">replay queued…</span>', rid);
end $$;

-- The audit log, newest first, for auditors and admins. Filters are text so an
-- empty form field means "any".
create function api.ui_audit(session_id text default null, actor text default null, event text default null,
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
    select string_agg(format(
             '<tr><td class="num">%s</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td class="num">%s</td>'
             '<td><code class="details">%s</code></td></tr>',
             a.id, to_char(a.at, 'YYYY-MM-DD HH24:MI:SS'), pgshell.html_escape(a.actor), pgshell.html_escape(a.event),
             case when a.session_id is null then ''
                  else format('<a href="#" hx-get="rpc/ui_session?session_id=%s" hx-target="#main">%s</a>',
                              a.session_id, left(a.session_id::text, 8)) end,
             coalesce(a.command_id::text, ''),
             pgshell.html_escape(a.details::text)), '' order by a.id desc),
           count(*), min(a.id)
    into rows, n, oldest
    from (select * from pgshell.audit_log l
          where (f_session is null or l.session_id = f_session)
            and (f_actor is null or l.actor = f_actor)
            and (f_event is null or l.event like f_event || '%')
            and (f_before is null or l.id < f_before)
          order by l.id desc limit page_size) a;

    return format(
        '<section class="audit"><h2>Audit log</h2>'
        '<form class="filters" hx-get="rpc/ui_audit" hx-target="#main">'
        '<input name="session_id" placeholder="session id" value="%s" aria-label="session id">'
        '<input name="actor" placeholder="actor" value="%s" aria-label="actor">'
        '<input name="event" placeholder="event prefix, e.g. command." value="%s" aria-label="event">'
        '<input type="hidden" name="before_id" value="">'
        '<button type="submit">filter</button></form>'
        '<table><thead><tr><th>id</th><th>at</th><th>actor</th><th>event</th><th>session</th><th>cmd</th><th>details</th></tr></thead>'
        '<tbody>%s</tbody></table>%s</section>',
        pgshell.html_escape(f_session::text), pgshell.html_escape(f_actor), pgshell.html_escape(f_event),
        coalesce(nullif(rows, ''), '<tr><td colspan="7" class="empty">no matching events</td></tr>'),
        case when n = page_size then format(
            '<button class="link" hx-get="rpc/ui_audit" hx-target="#main" hx-vals=''{"session_id": "%s", "actor": "%s", '
            '"event": "%s", "before_id": "%s"}''>older</button>',
            pgshell.html_escape(coalesce(f_session::text, '')),
            pgshell.html_escape(replace(replace(coalesce(f_actor, ''), '\', '\\'), '"', '\"')),
            pgshell.html_escape(replace(replace(coalesce(f_event, ''), '\', '\\'), '"', '\"')), oldest)
        else '' end);
end $$;

-- ---------------------------------------------------------------------------
-- Administration (admins only): users and programs
-- ---------------------------------------------------------------------------
create function pgshell.require_admin() returns pgshell.users
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare u pgshell.users := pgshell.caller();
begin
    if u.role <> 'admin' then
        raise exception 'only admins manage users and programs' using errcode = '42501';
    end if;
    return u;
end $$;

create function api.admin_users() returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pgshell.require_admin();
    return query
        select json_build_object('name', u.name, 'role', u.role, 'disabled', u.disabled,
                                 'has_password', u.password_hash is not null, 'created_at', u.created_at,
                                 'web_sessions', (select count(*) from pgshell.web_sessions w
                                                  where w.user_id = u.id and w.expires_at > now()))
        from pgshell.users u order by u.name;
end $$;

-- Creates a user or changes its role and (when given) password.
create function api.admin_set_user(name text, role text default 'user', password text default null) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare me pgshell.users := pgshell.require_admin(); created boolean; r pgshell.user_role;
begin
    begin
        r := admin_set_user.role::pgshell.user_role;
    exception when invalid_text_representation then
        raise exception 'role must be user, auditor or admin' using errcode = '22023';
    end;
    if password is not null and length(password) < 8 then
        raise exception 'a password needs at least 8 characters' using errcode = '22023';
    end if;
    if admin_set_user.name = me.name and r <> 'admin' then
        raise exception 'an admin cannot demote themselves' using errcode = '42501';
    end if;
    insert into pgshell.users as u (name, role, password_hash)
    values (admin_set_user.name, r,
            case when password is null then null else pgshell.bcrypt(password, pgshell.bcrypt_salt()) end)
    on conflict on constraint users_name_key do update set role = excluded.role,
        password_hash = coalesce(excluded.password_hash, u.password_hash)
    returning (xmax = 0) into created;
    perform pgshell.audit(case when created then 'user.created' else 'user.updated' end, null, null,
        jsonb_build_object('user', admin_set_user.name, 'role', r, 'password_set', password is not null));
    return json_build_object('name', admin_set_user.name, 'role', r, 'created', created);
end $$;

-- Disables (or enables) a user; disabling ends their web sessions at once.
create function api.admin_disable_user(name text, disabled boolean default true) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare me pgshell.users := pgshell.require_admin(); uid bigint;
begin
    if admin_disable_user.name = me.name and disabled then
        raise exception 'an admin cannot disable themselves' using errcode = '42501';
    end if;
    update pgshell.users u set disabled = admin_disable_user.disabled where u.name = admin_disable_user.name
    returning u.id into uid;
    if uid is null then
        raise exception 'no user %', admin_disable_user.name using errcode = '22023';
    end if;
    if disabled then
        delete from pgshell.web_sessions where user_id = uid;
    end if;
    perform pgshell.audit(case when disabled then 'user.disabled' else 'user.enabled' end, null, null,
        jsonb_build_object('user', admin_disable_user.name));
    return json_build_object('name', admin_disable_user.name, 'disabled', disabled);
end $$;

create function api.admin_programs() returns setof json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pgshell.require_admin();
    return query
        select json_build_object('name', p.name, 'kind', p.kind, 'enabled', p.enabled,
                                 'module_digest', encode(p.module_digest, 'hex'), 'native_path', p.native_path,
                                 'description', p.description, 'registered_at', p.registered_at)
        from pgshell.programs p order by p.name;
end $$;

create function api.admin_set_program_enabled(name text, enabled boolean) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare n int;
begin
    perform pgshell.require_admin();
    update pgshell.programs p set enabled = admin_set_program_enabled.enabled where p.name = admin_set_program_enabled.name;
    get diagnostics n = row_count;
    if n = 0 then
        raise exception 'no program %', admin_set_program_enabled.name using errcode = '22023';
    end if;
    perform pgshell.audit(case when enabled then 'program.enabled' else 'program.disabled' end, null, null,
        jsonb_build_object('program', admin_set_program_enabled.name));
    return json_build_object('name', admin_set_program_enabled.name, 'enabled', enabled);
end $$;

-- The admin page: users (add, change role or password, disable) and programs (enable/disable).
create function api.ui_admin() returns api."text/html"
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare users text; programs text;
begin
    perform pgshell.require_admin();
    select string_agg(format(
        '<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td class="actions">'
        '<button class="link" hx-post="rpc/ui_admin_disable_user" hx-vals=''{"name": "%s", "disabled": %s}'' hx-target="#main">%s</button></td></tr>',
        case when u ->> 'disabled' = 'true' then 'closed' else 'open' end,
        pgshell.html_escape(u ->> 'name'), pgshell.html_escape(u ->> 'role'),
        case when (u ->> 'has_password')::boolean then 'set' else '—' end,
        pgshell.html_escape(u ->> 'web_sessions'),
        pgshell.html_escape(u ->> 'name'),  -- names match ^[A-Za-z0-9_][A-Za-z0-9_.@-]*$: safe inside JSON
        case when u ->> 'disabled' = 'true' then 'false' else 'true' end,
        case when u ->> 'disabled' = 'true' then 'enable' else 'disable' end), '')
    into users from api.admin_users() u;
    select string_agg(format(
        '<tr class="%s"><td><code>%s</code></td><td>%s</td><td><code>%s</code></td><td class="actions">'
        '<button class="link" hx-post="rpc/ui_admin_program" hx-vals=''{"name": "%s", "enabled": %s}'' hx-target="#main">%s</button></td></tr>',
        case when (p ->> 'enabled')::boolean then 'open' else 'closed' end,
        pgshell.html_escape(p ->> 'name'), pgshell.html_escape(p ->> 'kind'),
        pgshell.html_escape(coalesce(p ->> 'native_path', left(p ->> 'module_digest', 12))),
        pgshell.html_escape(p ->> 'name'),  -- program names match ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ or '['
        case when (p ->> 'enabled')::boolean then 'false' else 'true' end,
        case when (p ->> 'enabled')::boolean then 'disable' else 'enable' end), '')
    into programs from api.admin_programs() p;
    return format(
        '<section class="admin"><h2>Users</h2>'
        '<form class="new" hx-post="rpc/ui_admin_set_user" hx-target="#main">'
        '<input name="name" placeholder="user name" required aria-label="user name">'
        '<select name="role" aria-label="role"><option>user</option><option>auditor</option><option>admin</option></select>'
        '<input name="password" type="password" placeholder="password (8+ characters)" minlength="8" required aria-label="password">'
        '<button type="submit">Add or update</button></form>'
        '<table><thead><tr><th>name</th><th>role</th><th>password</th><th>web sessions</th><th></th></tr></thead><tbody>%s</tbody></table>'
        '<h2>Programs</h2><table><thead><tr><th>name</th><th>kind</th><th>module / path</th><th></th></tr></thead><tbody>%s</tbody></table>'
        '</section>', users, programs);
end $$;

create function api.ui_admin_set_user(name text, role text, password text) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.admin_set_user(name, role, password);
    return api.ui_admin();
end $$;

create function api.ui_admin_disable_user(name text, disabled boolean) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.admin_disable_user(name, disabled);
    return api.ui_admin();
end $$;

create function api.ui_admin_program(name text, enabled boolean) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.admin_set_program_enabled(name, enabled);
    return api.ui_admin();
end $$;

-- ---------------------------------------------------------------------------
-- Privileges. New functions are executable by PUBLIC by default: revoke that
-- for this file's functions, then grant precisely.
-- ---------------------------------------------------------------------------
revoke execute on function
    pgshell.bcrypt(text, text), pgshell.bcrypt_salt(), pgshell.check_password(text, text),
    pgshell.cookie_header(text, int), pgshell.web_session_user(text), pgshell.request_cookie(),
    pgshell.start_web_session(pgshell.users), pgshell.login_failed(text), pgshell.pre_request(),
    pgshell.html_escape(text), pgshell.caller_or_null(), pgshell.api_has(text), pgshell.ui_ms(numeric),
    pgshell.ui_command(json, boolean), pgshell.ui_nav(pgshell.users), pgshell.ui_login_form(text, text),
    api.login(text, text), api.logout(), api.ui_home(), api.ui_login(text, text), api.ui_logout(),
    api.ui_sessions(), api.ui_session(uuid), api.ui_command(bigint), api.ui_new_session(text),
    api.ui_submit(uuid, text), api.ui_cancel(bigint), api.ui_close_session(uuid), api.ui_fork(bigint),
    api.ui_replay_status(bigint), api.ui_replay(uuid), api.ui_audit(text, text, text, text),
    pgshell.require_admin(), api.admin_users(), api.admin_set_user(text, text, text),
    api.admin_disable_user(text, boolean), api.admin_programs(), api.admin_set_program_enabled(text, boolean),
    api.ui_admin(), api.ui_admin_set_user(text, text, text), api.ui_admin_disable_user(text, boolean),
    api.ui_admin_program(text, boolean)
    from public;

-- Anonymous web requests may log in, log out, see the log-in form and run the
-- pre-request hook; everything else needs a user (cookie or JWT). The hook runs
-- as the request's role, so every gateway role may run it.
grant usage on schema pgshell to pgshell_anon;
grant execute on function pgshell.pre_request(), pgshell.web_session_user(text), pgshell.request_cookie()
    to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on function pgshell.caller_name() to pgshell_anon;
grant execute on function api.login(text, text), api.logout(), api.ui_home(), api.ui_login(text, text),
    api.ui_logout()
    to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on function pgshell.html_escape(text)
    to pgshell_user, pgshell_auditor, pgshell_admin;
grant execute on function
    api.ui_sessions(), api.ui_session(uuid), api.ui_command(bigint), api.ui_new_session(text),
    api.ui_submit(uuid, text), api.ui_cancel(bigint), api.ui_close_session(uuid), api.ui_fork(bigint),
    api.ui_replay_status(bigint), api.ui_replay(uuid), api.ui_audit(text, text, text, text),
    api.admin_users(), api.admin_set_user(text, text, text), api.admin_disable_user(text, boolean),
    api.admin_programs(), api.admin_set_program_enabled(text, boolean), api.ui_admin(),
    api.ui_admin_set_user(text, text, text), api.ui_admin_disable_user(text, boolean), api.ui_admin_program(text, boolean)
    to pgshell_user, pgshell_auditor, pgshell_admin;
