-- 0008_native_security: what an operator decides per native program, and who
-- asked for a cancellation (issue 8, items 1, 5, 6 and 13).
--
-- allow_env:   session variables passed to the program beyond the default
--              environment (README "Native programs"); nothing else reaches it.
-- replay_safe: a replay may run the program again (otherwise its commands are
--              reported as "not replayable (native)" and nothing runs).
-- host_view:   the program sees the host's filesystem instead of a mount
--              namespace holding only its binary, the libraries and its
--              private directory.
-- network:     the program keeps the host's network instead of a network
--              namespace with no interfaces.

alter table pgshell.programs
    add column allow_env text[] not null default '{}',
    add column replay_safe boolean not null default false,
    add column host_view boolean not null default false,
    add column network boolean not null default false,
    -- Names, or a prefix ending in '*' (LC_*): never '=' or anything else.
    add constraint programs_allow_env_names check (
        array_position(allow_env, null) is null and
        array_to_string(allow_env, ',') ~ '^([A-Za-z_][A-Za-z0-9_]{0,127}\*?(,[A-Za-z_][A-Za-z0-9_]{0,127}\*?)*)?$');
comment on column pgshell.programs.allow_env is
    'native: session variables passed beyond the documented default environment';
comment on column pgshell.programs.replay_safe is
    'native: the operator allows replays to run it again';
comment on column pgshell.programs.host_view is
    'native: no mount namespace (the program sees the host filesystem)';
comment on column pgshell.programs.network is
    'native: no network namespace (the program has the host network)';

-- Who asked for a running command to stop. The executor stops a command only
-- when this row says so (never on a notification's payload), and the name is
-- set here, in the transaction of the request, whoever wrote the flag.
alter table pgshell.commands add column cancel_requested_by text;

create function pgshell.note_cancel_requester() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if new.cancel_requested and not old.cancel_requested then
        new.cancel_requested_by := coalesce(pgshell.caller_name(), session_user::text);
    end if;
    return new;
end $$;

create trigger commands_cancel_requester before update of cancel_requested on pgshell.commands
    for each row execute function pgshell.note_cancel_requester();

-- A replay whose commands either verified or could not be replayed (a native
-- program not marked replay-safe is never run again) is "incomplete": it
-- neither vouches for those commands nor says they diverged.
alter table pgshell.replays drop constraint replays_verdict;
alter table pgshell.replays add constraint replays_verdict check (verdict in ('verified', 'diverged', 'incomplete', 'error'));
