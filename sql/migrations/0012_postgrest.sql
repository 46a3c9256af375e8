-- 0012: html/ hosted by a separate static server (issue 12).
--
-- The page at e.g. http://localhost:8080 calls the gateway at
-- http://localhost:3000 with credentials. check_same_origin (0009) refused
-- every state-changing request whose Origin is not the request's own host;
-- it now also accepts the one origin the gateway vouches for: the request's
-- Origin when server-cors-allowed-origins lists it, which the gateway puts in
-- request.cors_origin (empty otherwise). A request role cannot forge it from
-- outside: the gateway sets it in every request's transaction. Restated whole.
create or replace function pgshell.check_same_origin() returns void
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
    m text := upper(coalesce(current_setting('request.method', true), ''));
    h json := pgshell.request_headers();
    site text;
    origin text;
    host text;
    vouched text := nullif(current_setting('request.cors_origin', true), '');
begin
    if h is null or m in ('', 'GET', 'HEAD', 'OPTIONS') then
        return;
    end if;
    site := lower(btrim(h ->> 'sec-fetch-site'));
    origin := btrim(h ->> 'origin');
    host := lower(btrim(split_part(coalesce(h ->> 'x-forwarded-host', h ->> 'host'), ',', 1)));
    if vouched is not null and origin is not null and origin = vouched then
        return;
    end if;
    if (site is not null and site not in ('same-origin', 'none'))
       or (origin is not null and (origin = 'null' or host is null or host = ''
           or lower(regexp_replace(origin, '^[A-Za-z][A-Za-z0-9+.-]*://', '')) <> host)) then
        raise sqlstate 'PGRST' using
            message = json_build_object('code', 'PT403', 'message', 'cross-site request refused',
                'details', format('Sec-Fetch-Site: %s, Origin: %s, host: %s',
                                  coalesce(left(site, 40), '-'), coalesce(left(origin, 200), '-'), coalesce(left(host, 200), '-')),
                'hint', 'state-changing requests must come from the pg_shell page itself, or from an origin in server-cors-allowed-origins')::text,
            detail = '{"status": 403, "headers": {}}';
    end if;
end $$;
