-- 0009_login_security: who the caller is, log-in, web sessions (issue 8, items 7-12 and 14).
--
-- Applied as pgshell_owner. What changes:
--
--   * pgshell.caller_name()   the caller comes from request.jwt.claims only when
--                             the connection's login (session_user) is a member
--                             of pgshell_authenticator (the gateways, and the
--                             roles an operator grants it: the CLI's operator
--                             connection, an executor); a login whose name is a
--                             pg_shell user's name with users.sql_login acts as
--                             that user; any other login is nobody.
--   * log-in                  refused in a read-only transaction before anything
--                             else (GET); names of at most 64 characters; per
--                             name and per client address failure windows,
--                             checked before any hashing (429 + Retry-After);
--                             a server-wide cap on concurrent hashing (503);
--                             bcrypt at pgshell.settings.bcrypt_cost (>= 10),
--                             old hashes upgraded at the next log-in, unknown
--                             names hashed against a dummy of the same cost;
--                             the first failure of a window is an audit row,
--                             repeats are counted into pgshell.login_windows and
--                             summarised in the audit log when the window closes.
--   * credentials changes     a new password, a role change or disabling ends
--                             the user's web sessions (trigger), and a JWT
--                             whose iat is older is refused by pre_request.
--   * pre_request             refuses cross-site state-changing requests that
--                             rely on the cookie (Sec-Fetch-Site / Origin).
--   * cookie                  Secure when the request came over https
--                             (X-Forwarded-Proto as the gateway passes it).
--   * ui_session              no inline handler (the page's CSP has no
--                             unsafe-inline / unsafe-eval; html/app.js does it).
--
-- The client's address and scheme come from request.headers (x-forwarded-for,
-- x-forwarded-proto), which `pg_shell serve` fills from the connection (or from
-- a trusted proxy); behind real PostgREST, the reverse proxy must set them
-- (docs/postgrest.md). Headers are believed only from a trusted login.

-- ---------------------------------------------------------------------------
-- Who is calling
-- ---------------------------------------------------------------------------
alter table pgshell.users
    add column sql_login boolean not null default false,   -- a database login of this name acts as this user
    add column credentials_changed_at timestamptz;          -- last password / role change: older JWTs are refused

-- True when the connection's login may name the caller (and pass request headers).
create function pgshell.trusted_login() returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select pg_has_role(session_user, 'pgshell_authenticator', 'MEMBER')
$$;

create or replace function pgshell.caller_name() returns text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    if pg_has_role(session_user, 'pgshell_authenticator', 'MEMBER') then
        return nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::json ->> 'sub';
    end if;
    return (select u.name from pgshell.users u where u.name = session_user::text and u.sql_login);
end $$;

-- request.headers, when a trusted login (a gateway) set them; else null.
create function pgshell.request_headers() returns json
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
begin
    if not pgshell.trusted_login() then
        return null;
    end if;
    return nullif(current_setting('request.headers', true), '')::json;
exception when invalid_text_representation then
    return null;
end $$;

-- The client's address: the last X-Forwarded-For entry a gateway passed (the
-- built-in gateway passes exactly one, from the connection or a trusted proxy;
-- a proxy that appends puts the address it saw last), or the connection's own
-- address for a direct SQL login. 'invalid' when the header is not an address;
-- null when nothing is known (a trusted login without the header).
create function pgshell.request_address() returns text
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare h json := pgshell.request_headers(); xff text; parts text[];
begin
    if pgshell.trusted_login() then
        xff := left(h ->> 'x-forwarded-for', 1000);
        if xff is null or btrim(xff) = '' then
            return null;
        end if;
        parts := string_to_array(xff, ',');
        begin
            return host(btrim(parts[array_length(parts, 1)])::inet);
        exception when invalid_text_representation then
            return 'invalid';
        end;
    end if;
    return coalesce(host(inet_client_addr()), 'local');
end $$;

-- Whether the request came over https (the first X-Forwarded-Proto value).
create function pgshell.request_is_https() returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce(lower(btrim(split_part(pgshell.request_headers() ->> 'x-forwarded-proto', ',', 1))) = 'https', false)
$$;

create or replace function pgshell.cookie_header(p_token text, p_max_age int) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select format('pgshell_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%s', p_token, p_max_age)
        || case when coalesce(pgshell.setting('web_cookie_secure')::boolean, false) or pgshell.request_is_https()
                then '; Secure' else '' end
$$;
update pgshell.settings
set description = 'always add the Secure attribute to the session cookie (it is added anyway when the request came over https)'
where name = 'web_cookie_secure';

-- ---------------------------------------------------------------------------
-- Passwords: bcrypt at a configured cost
-- ---------------------------------------------------------------------------
insert into pgshell.settings (name, value, description) values
    ('bcrypt_cost',                    '10',  'bcrypt cost of stored passwords (10 to 16); lower hashes are upgraded at the next log-in'),
    ('login_window_seconds',           '600', 'length of a failed log-in window'),
    ('login_max_failures_per_user',    '5',   'failed log-ins for one user name in a window before further attempts get 429'),
    ('login_max_failures_per_address', '20',  'failed log-ins from one client address in a window before further attempts get 429'),
    ('login_hash_slots',               '4',   'log-ins hashing a password at once, for the whole database; others wait up to 0.5 s, then get 503')
on conflict (name) do nothing;

create function pgshell.bcrypt_target_cost() returns int
language sql stable set search_path = pg_catalog, pg_temp as $$
    select least(greatest(coalesce(pgshell.setting('bcrypt_cost')::int, 10), 10), 16)
$$;

-- The cost a bcrypt hash was made with, or null for anything else.
create function pgshell.bcrypt_cost_of(p_hash text) returns int
language sql immutable set search_path = pg_catalog, pg_temp as $$
    select (substring(p_hash from '^\$2[abxy]?\$([0-9]{2})\$'))::int
$$;

do $$
declare s name;
begin
    select n.nspname into strict s from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgcrypto';
    execute format($f$
        create or replace function pgshell.bcrypt_salt() returns text
        language sql volatile set search_path = pg_catalog, pg_temp
        as 'select %1$I.gen_salt(''bf'', pgshell.bcrypt_target_cost())'$f$, s);
end $$;

-- ---------------------------------------------------------------------------
-- Credentials changes end web sessions
-- ---------------------------------------------------------------------------
-- A new password (not the log-in's own cost upgrade, which sets
-- pgshell.hash_upgrade), a role change or disabling: the user's cookies stop
-- working at once, and pre_request refuses JWTs issued before the change.
create function pgshell.users_credentials_changed() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if (new.password_hash is distinct from old.password_hash
            and coalesce(current_setting('pgshell.hash_upgrade', true), '') <> 'on')
       or new.role is distinct from old.role then
        new.credentials_changed_at := clock_timestamp();
    end if;
    if new.credentials_changed_at is distinct from old.credentials_changed_at or (new.disabled and not old.disabled) then
        delete from pgshell.web_sessions where user_id = new.id;
    end if;
    return new;
end $$;
create trigger users_credentials_changed before update on pgshell.users
    for each row execute function pgshell.users_credentials_changed();

-- ---------------------------------------------------------------------------
-- Failed log-in windows
-- ---------------------------------------------------------------------------
-- One row per user name and per client address with a recent attempt. The
-- first failure in a window is an audit row (audit_id); later failures,
-- throttled attempts (429) and attempts refused for lack of a hashing slot
-- (503) are counted here, and written to the audit log as one
-- `user.login_failures` row when the window is closed (renewed, swept, or reset
-- by a successful log-in). Keys are bounded: names are at most 64 characters,
-- addresses are inet text.
create table pgshell.login_windows (
    kind       text not null,
    key        text not null,
    started_at timestamptz not null,
    ends_at    timestamptz not null,
    failures   integer not null default 0,
    throttled  integer not null default 0,
    busy       integer not null default 0,
    audit_id   bigint,
    primary key (kind, key),
    constraint login_windows_kind check (kind in ('user', 'address')),
    constraint login_windows_key_len check (length(key) <= 64)
);
create index login_windows_ends_idx on pgshell.login_windows (ends_at);

-- The summary of a closing window, when it holds more than its first failure.
create function pgshell.login_window_summary(w pgshell.login_windows) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
begin
    if w.failures > 1 or w.throttled > 0 or w.busy > 0 then
        insert into pgshell.audit_log (actor, event, details)
        values ('anonymous', 'user.login_failures', jsonb_build_object(
            w.kind, w.key, 'failures', w.failures, 'throttled', w.throttled, 'busy', w.busy,
            'from', w.started_at, 'to', least(w.ends_at, now()), 'first_failure_audit_id', w.audit_id));
    end if;
end $$;

-- The live window of (kind, key), created if missing, locked; an expired one
-- is summarised and renewed.
create function pgshell.login_window(p_kind text, p_key text, p_secs int) returns pgshell.login_windows
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare w pgshell.login_windows;
begin
    insert into pgshell.login_windows (kind, key, started_at, ends_at)
    values (p_kind, p_key, now(), now() + make_interval(secs => p_secs))
    on conflict (kind, key) do nothing;
    select * into strict w from pgshell.login_windows where kind = p_kind and key = p_key for update;
    if w.ends_at <= now() then
        perform pgshell.login_window_summary(w);
        update pgshell.login_windows set started_at = now(), ends_at = now() + make_interval(secs => p_secs),
            failures = 0, throttled = 0, busy = 0, audit_id = null
        where kind = p_kind and key = p_key
        returning * into w;
    end if;
    return w;
end $$;

-- Closes up to p_limit expired windows nobody is using.
create function pgshell.login_sweep(p_limit int default 20) returns int
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare w pgshell.login_windows; n int := 0;
begin
    for w in
        delete from pgshell.login_windows l
        where (l.kind, l.key) in (select x.kind, x.key from pgshell.login_windows x
                                  where x.ends_at <= now() order by x.ends_at limit p_limit
                                  for update skip locked)
        returning l.*
    loop
        perform pgshell.login_window_summary(w);
        n := n + 1;
    end loop;
    return n;
end $$;

-- One of login_hash_slots advisory locks (held to the end of the
-- transaction), waiting up to 0.5 s; false when every slot stayed busy.
create function pgshell.login_hash_slot() returns boolean
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    slots int := greatest(coalesce(pgshell.setting('login_hash_slots')::int, 4), 1);
    deadline timestamptz := clock_timestamp() + interval '500 milliseconds';
begin
    loop
        for i in 0 .. slots - 1 loop
            if pg_try_advisory_xact_lock(hashtext('pg_shell.login_hash'), i) then
                return true;
            end if;
        end loop;
        if clock_timestamp() >= deadline then
            return false;
        end if;
        perform pg_sleep(0.01);
    end loop;
end $$;

-- ---------------------------------------------------------------------------
-- One log-in attempt
-- ---------------------------------------------------------------------------
-- Returns {"status": 200 | 401 | 429 | 503, "retry_after": seconds}; the
-- windows and the audit log are updated (so the caller must commit: it never
-- raises after writing). Raises, before anything is written, in a read-only
-- transaction (25006: a GET) and for a name over 64 characters (22023).
create function pgshell.login_attempt(p_name text, p_password text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    secs int := greatest(coalesce(pgshell.setting('login_window_seconds')::int, 600), 1);
    max_user int := greatest(coalesce(pgshell.setting('login_max_failures_per_user')::int, 5), 1);
    max_addr int := greatest(coalesce(pgshell.setting('login_max_failures_per_address')::int, 20), 1);
    target int := pgshell.bcrypt_target_cost();
    v_name text := coalesce(p_name, '');
    v_password text := coalesce(p_password, '');
    addr text;
    ua text;
    wu pgshell.login_windows;
    wa pgshell.login_windows;
    over_user boolean;
    over_addr boolean := false;
    u pgshell.users;
    ok boolean := false;
    until timestamptz;
    aid bigint;
begin
    -- Before anything else: a GET runs read-only, and must answer the same
    -- whatever the password (nothing could be recorded).
    if current_setting('transaction_read_only') = 'on' then
        raise exception 'log-in records every attempt: call it with POST' using errcode = '25006';
    end if;
    if length(v_name) > 64 then
        raise exception 'a user name has at most 64 characters' using errcode = '22023';
    end if;
    perform pgshell.login_sweep();
    addr := pgshell.request_address();
    ua := left(pgshell.request_headers() ->> 'user-agent', 200);

    -- The limits, checked before any hashing.
    wu := pgshell.login_window('user', v_name, secs);
    over_user := wu.failures >= max_user;
    if addr is not null then
        wa := pgshell.login_window('address', addr, secs);
        over_addr := wa.failures >= max_addr;
    end if;
    if over_user or over_addr then
        until := greatest(case when over_user then wu.ends_at end, case when over_addr then wa.ends_at end);
        update pgshell.login_windows set throttled = throttled + 1
        where (kind = 'user' and key = v_name and over_user) or (kind = 'address' and key = addr and over_addr);
        if (over_user and wu.throttled = 0) or (over_addr and wa.throttled = 0) then
            insert into pgshell.audit_log (actor, event, details)
            values ('anonymous', 'user.login_throttled', jsonb_build_object(
                'user', v_name, 'address', addr, 'user_agent', ua, 'until', until,
                'by', to_jsonb(array_remove(array[case when over_user then 'user' end,
                                                  case when over_addr then 'address' end], null))));
        end if;
        return json_build_object('status', 429, 'retry_after',
                                 greatest(ceil(extract(epoch from until - clock_timestamp())), 1)::int);
    end if;

    -- Hashing: a server-wide number at once.
    if not pgshell.login_hash_slot() then
        update pgshell.login_windows set busy = busy + 1
        where (kind = 'user' and key = v_name) or (kind = 'address' and key = addr);
        return json_build_object('status', 503, 'retry_after', 1);
    end if;
    select * into u from pgshell.users where users.name = v_name;
    if u.password_hash is null then
        -- Unknown user, or no password: the same work as a real check.
        perform pgshell.bcrypt(v_password, pgshell.bcrypt_salt());
    else
        ok := pgshell.bcrypt(v_password, u.password_hash) = u.password_hash and not u.disabled;
        if coalesce(pgshell.bcrypt_cost_of(u.password_hash), 0) < target then
            if ok then
                perform set_config('pgshell.hash_upgrade', 'on', true);
                update pgshell.users set password_hash = pgshell.bcrypt(v_password, pgshell.bcrypt_salt()) where id = u.id;
                perform set_config('pgshell.hash_upgrade', '', true);
            else
                perform pgshell.bcrypt(v_password, pgshell.bcrypt_salt());
            end if;
        end if;
    end if;

    if not ok then
        update pgshell.login_windows set failures = failures + 1
        where (kind = 'user' and key = v_name) or (kind = 'address' and key = addr);
        if wu.failures = 0 or (addr is not null and wa.failures = 0) then
            insert into pgshell.audit_log (actor, event, details)
            values ('anonymous', 'user.login_failed', jsonb_build_object(
                'user', v_name, 'address', addr, 'user_agent', ua,
                'first_for', to_jsonb(array_remove(array[case when wu.failures = 0 then 'user' end,
                                                         case when addr is not null and wa.failures = 0 then 'address' end], null))))
            returning id into aid;
            update pgshell.login_windows set audit_id = aid
            where ((kind = 'user' and key = v_name) or (kind = 'address' and key = addr)) and failures = 1;
        end if;
        return json_build_object('status', 401);
    end if;

    -- Success resets the name's window (not the address's).
    perform pgshell.login_window_summary(wu);
    delete from pgshell.login_windows where kind = 'user' and key = v_name;
    delete from pgshell.login_windows
    where kind = 'address' and key = addr and failures = 0 and throttled = 0 and busy = 0;
    return json_build_object('status', 200, 'user', u.name);
end $$;

-- A refused attempt: the status (and Retry-After) through the response GUCs,
-- and PostgREST's error body.
create function pgshell.login_refused(r json) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare st int := (r ->> 'status')::int;
begin
    perform set_config('response.status', st::text, true);
    if st in (429, 503) then
        perform set_config('response.headers',
            json_build_array(json_build_object('Retry-After', r ->> 'retry_after'))::text, true);
    end if;
    return case st
        when 429 then json_build_object('code', 'PT429', 'message', 'too many failed log-ins: try again later',
                                        'details', format('retry after %s seconds', r ->> 'retry_after'), 'hint', null)
        when 503 then json_build_object('code', 'PT503', 'message', 'log-in is busy: try again',
                                        'details', null, 'hint', null)
        else json_build_object('code', 'PT401', 'message', 'invalid user name or password', 'details', null, 'hint', null)
    end;
end $$;

create or replace function pgshell.start_web_session(u pgshell.users) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
    token text := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''); -- 244 random bits
    lifetime int := coalesce(pgshell.setting('web_session_seconds')::int, 43200);
    expires timestamptz := now() + make_interval(secs => lifetime);
    ua text := left(pgshell.request_headers() ->> 'user-agent', 200);
begin
    delete from pgshell.web_sessions where user_id = u.id and expires_at <= now();
    insert into pgshell.web_sessions (token_hash, user_id, expires_at, user_agent)
    values (sha256(convert_to(token, 'UTF8')), u.id, expires, ua);
    perform set_config('response.headers',
        json_build_array(json_build_object('Set-Cookie', pgshell.cookie_header(token, lifetime)))::text, true);
    perform set_config('request.jwt.claims',
        json_build_object('sub', u.name, 'role', 'pgshell_' || u.role::text)::text, true);
    perform pgshell.audit('user.login', null, null,
        jsonb_build_object('user', u.name, 'address', pgshell.request_address(), 'user_agent', ua));
    return json_build_object('user', u.name, 'role', u.role, 'expires_at', expires);
end $$;

create or replace function api.login(username text, password text) returns json
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare r json := pgshell.login_attempt(username, password); u pgshell.users;
begin
    if (r ->> 'status')::int <> 200 then
        return pgshell.login_refused(r);
    end if;
    select * into strict u from pgshell.users where name = r ->> 'user';
    return pgshell.start_web_session(u);
end $$;
comment on function api.login(text, text) is
    'Checks the password and sets the HttpOnly session cookie. POST only. 401 PT401 for a wrong password, '
    '429 PT429 (Retry-After) after too many failures, 503 PT503 when log-ins are busy; every attempt is accounted.';

-- ---------------------------------------------------------------------------
-- Pre-request: token age, cross-site requests
-- ---------------------------------------------------------------------------
-- A bearer JWT for a user whose password or role changed after the token's
-- `iat` (or without iat) is refused: 401, as PostgREST refuses a bad token.
create function pgshell.check_token_age() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare claims json := nullif(nullif(current_setting('request.jwt.claims', true), ''), '{}')::json; changed timestamptz;
begin
    select u.credentials_changed_at into changed from pgshell.users u where u.name = claims ->> 'sub';
    if changed is null then
        return;
    end if;
    if coalesce(json_typeof(claims -> 'iat'), '') <> 'number'
       or (claims ->> 'iat')::numeric < floor(extract(epoch from changed)) then
        raise sqlstate 'PGRST' using
            message = json_build_object('code', 'PGRST303',
                'message', 'JWT issued before the user''s credentials changed', 'details', null,
                'hint', 'log in again or get a new token')::text,
            detail = json_build_object('status', 401, 'headers', json_build_object('WWW-Authenticate',
                'Bearer error="invalid_token", error_description="JWT issued before the user''s credentials changed"'))::text;
    end if;
end $$;

-- A state-changing request that a browser sent from another site (login
-- CSRF, or a forged request carrying the cookie): Sec-Fetch-Site other than
-- same-origin / none, or an Origin that is not the request's own host.
create function pgshell.check_same_origin() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    m text := upper(coalesce(current_setting('request.method', true), ''));
    h json := pgshell.request_headers();
    site text;
    origin text;
    host text;
begin
    if h is null or m in ('', 'GET', 'HEAD', 'OPTIONS') then
        return;
    end if;
    site := lower(btrim(h ->> 'sec-fetch-site'));
    origin := btrim(h ->> 'origin');
    host := lower(btrim(split_part(coalesce(h ->> 'x-forwarded-host', h ->> 'host'), ',', 1)));
    if (site is not null and site not in ('same-origin', 'none'))
       or (origin is not null and (origin = 'null' or host is null or host = ''
           or lower(regexp_replace(origin, '^[A-Za-z][A-Za-z0-9+.-]*://', '')) <> host)) then
        raise sqlstate 'PGRST' using
            message = json_build_object('code', 'PT403', 'message', 'cross-site request refused',
                'details', format('Sec-Fetch-Site: %s, Origin: %s, host: %s',
                                  coalesce(left(site, 40), '-'), coalesce(left(origin, 200), '-'), coalesce(left(host, 200), '-')),
                'hint', 'state-changing requests must come from the pg_shell page itself')::text,
            detail = '{"status": 403, "headers": {}}';
    end if;
end $$;

-- Runs as the role the gateway switched to (pgshell_anon without a JWT); see 0003.
create or replace function pgshell.pre_request() returns void
language plpgsql volatile set search_path = pg_catalog, pg_temp as $$
declare tok text; who record; r text;
begin
    if pgshell.caller_name() is not null then
        perform pgshell.check_token_age();   -- a bearer JWT: no cookie, no CSRF
        return;
    end if;
    perform pgshell.check_same_origin();
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
create or replace function pgshell.ui_login_form(p_error text, p_username text default null) returns text
language sql stable set search_path = pg_catalog, pg_temp as $$
    select format(
        '<form class="login" hx-post="rpc/ui_login" hx-target="#app">'
        '<h1>pg_shell</h1>'
        '<label>User <input name="username" autocomplete="username" maxlength="64" value="%s"%s required></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password"%s required></label>'
        '<button type="submit">Log in</button>%s</form>',
        pgshell.html_escape(p_username),
        case when p_username is null then ' autofocus' else '' end,
        case when p_username is null then '' else ' autofocus' end,
        case when p_error is null then '' else format('<p class="error" role="alert">%s</p>', pgshell.html_escape(p_error)) end)
$$;

create or replace function api.ui_login(username text, password text) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare r json := pgshell.login_attempt(username, password); st int := (r ->> 'status')::int; u pgshell.users;
begin
    if st = 200 then
        select * into strict u from pgshell.users where name = r ->> 'user';
        perform pgshell.start_web_session(u);
        return api.ui_home();
    end if;
    perform pgshell.login_refused(r);
    if st = 401 then
        -- htmx swaps only 2xx answers: show the form again with the error. (429
        -- and 503 keep their status; html/app.js swaps the form for those too.)
        perform set_config('response.status', '200', true);
    end if;
    return pgshell.ui_login_form(case st
        when 401 then 'Invalid user name or password.'
        when 429 then format('Too many failed log-ins. Try again in %s.',
                             case when (r ->> 'retry_after')::int < 120 then (r ->> 'retry_after') || ' seconds'
                                  else ceil((r ->> 'retry_after')::int / 60.0)::text || ' minutes' end)
        else 'The server is busy. Try again in a moment.' end, username);
end $$;

-- 0003's terminal view, without the inline hx-on handler: html/app.js resets
-- and refocuses the command line after a submission.
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
            '<form class="input" hx-post="rpc/ui_submit" hx-target="#cmds" hx-swap="beforeend show:bottom">'
            '<input type="hidden" name="session_id" value="%s">'
            '<label for="line" class="prompt"><span id="cwd">%s</span>$</label>'
            '<input id="line" name="line" autocomplete="off" autocapitalize="off" spellcheck="false" autofocus '
            'aria-label="command line" required></form>', s.id, pgshell.html_escape(cwd))
        when u.role = 'auditor' then '<p class="note">Read-only: auditors run nothing.</p>'
        else '' end);
end $$;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
revoke all on pgshell.login_windows from public;
revoke execute on function
    pgshell.trusted_login(), pgshell.request_headers(), pgshell.request_address(), pgshell.request_is_https(),
    pgshell.bcrypt_target_cost(), pgshell.bcrypt_cost_of(text), pgshell.users_credentials_changed(),
    pgshell.login_window_summary(pgshell.login_windows), pgshell.login_window(text, text, int),
    pgshell.login_sweep(int), pgshell.login_hash_slot(), pgshell.login_attempt(text, text),
    pgshell.login_refused(json), pgshell.check_token_age(), pgshell.check_same_origin()
    from public;
-- pre_request runs as the request's role and calls these two.
grant execute on function pgshell.check_token_age(), pgshell.check_same_origin()
    to pgshell_anon, pgshell_user, pgshell_auditor, pgshell_admin;
