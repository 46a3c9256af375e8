-- The web terminal says what terminal it is (issue #11): the page sends
-- {"tty": true, "term": "xterm-256color", "columns": C, "lines": L} with each
-- line, measured from the width and height of its output area, so guests see
-- a terminal as they do from `pg_shell shell` (`ls` in columns, COLUMNS set),
-- and replay uses what was recorded. 0010's ui_submit otherwise; a client
-- that sends no terminal gets none, as before.
drop function api.ui_submit(uuid, text);
create function api.ui_submit(session_id uuid, line text, terminal jsonb default null) returns api."text/html"
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare v_id bigint;
begin
    perform pgshell.owned_session(session_id);
    if btrim(coalesce(line, '')) = '' then
        return '';
    end if;
    begin
        v_id := api.submit(session_id, line, terminal);
    exception when string_data_right_truncation or object_not_in_prerequisite_state
                   or program_limit_exceeded or null_value_not_allowed or invalid_parameter_value or sqlstate 'PT409' then
        return format('<div class="cmd st-refused"><div class="line"><span class="prompt">$</span> '
                      '<span class="text">%s</span></div><pre class="err">%s</pre></div>',
                      pgshell.html_escape(left(line, 200)), pgshell.html_escape(sqlerrm));
    end;
    return pgshell.ui_command(api.command(v_id), true);
end $$;

revoke execute on function api.ui_submit(uuid, text, jsonb) from public;
grant execute on function api.ui_submit(uuid, text, jsonb) to pgshell_user, pgshell_auditor, pgshell_admin;
