-- 0022_heartbeat_claims: a claim returns every command it takes, and a
-- heartbeat hands back every claim of its own the executor does not list,
-- however young.
--
-- pgshell.claim_commands is pgshell.claim (0011) returning also what 0015
-- and 0018 added (terminal, recorded input). The executor used to read
-- those with a lateral join on pgshell.claim's rows in the same statement;
-- that statement's snapshot is older than the function's own, so a command
-- submitted between the two was claimed (committed, `running`) but dropped
-- by the join: the executor never knew it held it (found by
-- queue::many_executors_never_run_a_command_twice once the heartbeat below
-- handed such claims back at once instead of after the lease).
--
-- 0017 spared claims younger than 5 s, because a claim just committed is
-- not yet in the list the executor sends. Under load (the whole test suite
-- on 2 cores) a claim's rows could wait longer than that before the
-- executor took them in: its own live command was handed back and run
-- again (queue::many_executors_never_run_a_command_twice,
-- security::the_audit_log_is_append_only, seen in CI). The executor now
-- serializes claiming with the heartbeat (a claim and the taking-in of its
-- rows happen under the lock the heartbeat holds while it reads its list
-- and calls this), so every claim the database holds for it when this runs
-- is either in the list or one it does not run; no age is needed.

create or replace function pgshell.heartbeat(p_executor text, p_lease_ms int, p_running bigint[]) returns setof bigint
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare c pgshell.commands;
begin
    update pgshell.executors set heartbeat_at = now(), stopped_at = null where id = p_executor;
    for c in
        select * from pgshell.commands x
        where x.claimed_by = p_executor and x.status = 'running'
          and not (x.id = any(p_running))
        for update skip locked
    loop
        perform pgshell.hand_back(c, 'the executor does not hold it (it finished or lost it; the database lost its completion)');
    end loop;
    return query
        update pgshell.commands set lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
        where claimed_by = p_executor and status = 'running' and id = any(p_running)
        returning (case when cancel_requested then id end);
end $$;

create function pgshell.claim_commands(p_executor text, p_lease_ms int, p_limit int)
returns table (
    id bigint, session_id uuid, seq int, line text, attempt int, claim_token uuid,
    env_before bytea, head_env bytea, owner_name text, random_seed bytea, clock_base_ns bigint,
    session_limits jsonb, cancel_requested boolean, terminal jsonb, input_digest bytea, input_refused text)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare expired pgshell.commands; r record;
begin
    for expired in
        select * from pgshell.commands c
        where c.status = 'running' and c.lease_expires_at < now()
        order by c.id limit 100
        for update skip locked
    loop
        perform pgshell.hand_back(expired, 'lease expired');
    end loop;

    for r in
        with picked as (
            -- The head of each session (its oldest unfinished command), if it
            -- is waiting. Heads only move forward, so a head seen in this
            -- snapshot is safe to take; the row lock and the status re-check
            -- under it keep two executors from taking one.
            select c.id from pgshell.commands c
            where c.id in (select min(h.id) from pgshell.commands h
                           where h.status in ('queued', 'running') group by h.session_id)
              and c.status = 'queued'
            order by c.id
            limit p_limit
            for update of c skip locked
        ), claimed as (
            update pgshell.commands c
            set status = 'running', claimed_by = p_executor, claim_token = gen_random_uuid(),
                attempt = c.attempt + 1, lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0),
                started_at = now(), retry_unsafe = false
            from picked where c.id = picked.id and c.status = 'queued'
            returning c.*
        )
        select cl.id, cl.session_id, cl.seq, cl.line, cl.attempt, cl.claim_token,
               cl.env_before, s.head_env, u.name, cl.random_seed, cl.clock_base_ns,
               s.limits, cl.cancel_requested, cl.terminal, cl.input_digest, cl.input_refused
        from claimed cl
        join pgshell.sessions s on s.id = cl.session_id
        join pgshell.users u on u.id = s.owner_id
        order by cl.id
    loop
        -- Who took it, and whether it is a later attempt (a rescue).
        perform pgshell.audit(case when r.attempt > 1 then 'command.rescued' else 'command.claimed' end,
            r.session_id, r.id, jsonb_build_object('executor', p_executor, 'attempt', r.attempt));
        id := r.id; session_id := r.session_id; seq := r.seq; line := r.line; attempt := r.attempt;
        claim_token := r.claim_token; env_before := r.env_before; head_env := r.head_env;
        owner_name := r.name; random_seed := r.random_seed; clock_base_ns := r.clock_base_ns;
        session_limits := r.limits; cancel_requested := r.cancel_requested;
        terminal := r.terminal; input_digest := r.input_digest; input_refused := r.input_refused;
        return next;
    end loop;
end $$;
revoke all on function pgshell.claim_commands(text, int, int) from public;
grant execute on function pgshell.claim_commands(text, int, int) to pgshell_executor;
