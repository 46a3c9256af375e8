-- 0017_heartbeat_holds: a heartbeat renews only the claims the executor
-- knows it holds.
--
-- Until now a heartbeat renewed the lease of every running command claimed
-- by the executor's id. When the database forgets a completion it had
-- acknowledged (commits not yet durable when it crashed or restarted in
-- immediate mode, with synchronous_commit off, or a failover to a replica
-- that was behind), the command is `running` again under an executor that
-- has long finished it: its lease was renewed forever and the session
-- stalled behind it (found by robustness::the_gateway_cleanup_and_monitor_outlive_a_database_restart).
-- Now the executor says which commands it runs; any other claim of its own
-- older than 5 s (a claim just made is not yet in its list) is handed back by
-- the one rule (queued again, or lost for a native program not retry-safe).

create function pgshell.heartbeat(p_executor text, p_lease_ms int, p_running bigint[]) returns setof bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    update pgshell.executors set heartbeat_at = now(), stopped_at = null where id = p_executor;
    for c in
        select * from pgshell.commands x
        where x.claimed_by = p_executor and x.status = 'running'
          and not (x.id = any(p_running)) and x.started_at < now() - interval '5 seconds'
        for update skip locked
    loop
        perform pgshell.hand_back(c, 'the executor does not hold it (the database lost its completion)');
    end loop;
    return query
        update pgshell.commands set lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
        where claimed_by = p_executor and status = 'running' and id = any(p_running)
        returning (case when cancel_requested then id end);
end $$;
revoke all on function pgshell.heartbeat(text, int, bigint[]) from public;
grant execute on function pgshell.heartbeat(text, int, bigint[]) to pgshell_executor;
