-- Holds shown in the web UI (issue #9): the session list marks a held
-- session (kept from retention) with a badge, and gives admins and auditors a
-- hold / release button next to each session. The rest is 0014's list.

create or replace function api.ui_sessions(q text default null, page int default 1) returns api."text/html"
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
        '<td class="num">%s</td><td><code>%s</code></td><td class="at">%s</td><td>%s%s</td><td class="actions">%s%s%s</td></tr>',
        case when x.closed_at is null then 'open' else 'closed' end,
        x.id, x.id, x.id, coalesce(nullif(pgshell.html_escape(x.title), ''), '<i>untitled</i>'),
        x.id, left(x.id::text, 8), x.id, x.id,
        case when sees_all then format('<td>%s</td>', pgshell.html_escape(x.owner_name)) else '' end,
        x.next_seq,
        pgshell.html_escape(coalesce(x.cwd, '/')),
        to_char(x.created_at, 'YYYY-MM-DD HH24:MI'),
        case when x.closed_at is null then 'open' else 'closed' end,
        case when x.held then ' <span class="badge held" title="held: kept from retention until an admin or auditor releases it">held</span>' else '' end,
        case when can_fork and x.owner_id = u.id and x.last_cmd is not null
             then format('<button class="link" hx-post="rpc/ui_fork" hx-vals=''{"command_id": %s}'' hx-target="#main">fork</button> ', x.last_cmd)
             else '' end,
        case when x.owner_id = u.id and x.closed_at is null
             then format('<button class="link" hx-post="rpc/ui_close_session" hx-vals=''{"session_id": "%s"}'' '
                         'hx-target="#main" hx-confirm="Close this session?">close</button>', x.id)
             else '' end,
        case when sees_all
             then format('<button class="link" hx-post="rpc/ui_hold_session" hx-vals=''%s'' hx-target="#main" aria-label="%s session %s">%s</button>',
                         pgshell.html_escape(json_build_object('session_id', x.id, 'held', not x.held, 'q', coalesce(f_q, ''), 'page', v_page)::text),
                         case when x.held then 'release' else 'hold' end, x.id,
                         case when x.held then 'release' else 'hold' end)
             else '' end),
        '' order by x.created_at desc, x.id)
    into rows
    from (select s.id, s.title, s.closed_at, s.held, s.created_at, s.next_seq, s.owner_id, o.name as owner_name, e.cwd,
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

-- The list's hold / release button: api.hold_session (which checks the role
-- and audits), then the same page of the list again.
create function api.ui_hold_session(session_id uuid, held boolean, q text default null, page int default 1)
returns api."text/html"
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform api.hold_session(ui_hold_session.session_id, ui_hold_session.held);
    return api.ui_sessions(q, page);
end $$;

revoke execute on function api.ui_hold_session(uuid, boolean, text, int) from public;
grant execute on function api.ui_hold_session(uuid, boolean, text, int) to pgshell_auditor, pgshell_admin;
