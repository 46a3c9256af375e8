-- 0016_gc: storage nothing refers to any more is collected.
--
-- Retention (0011) deletes old sessions with their commands. Their
-- environments, the tree objects of those environments' file trees and the
-- blobs of their files are shared, content-addressed and immutable, so they
-- can only go when nothing alive refers to them. The collector
-- (src/services/gc.rs) runs after sessions were deleted:
--
--   1. `gc_begin` waits for every transaction that stored or re-used
--      storage to end, and returns the mark time T.
--   2. `gc_environments` deletes environments no command or session names,
--      not used since T.
--   3. The collector walks every remaining environment's tree (Rust parses
--      the PGT1 objects), plus the modules programs and recorded plans pin,
--      and deletes (`gc_delete`) tree objects and blobs it did not reach,
--      not used since T.
--
-- "Used" is `used_at`: set when a row is inserted, and again when an insert
-- meets an existing row (complete_command's `on conflict do nothing` re-uses
-- a blob another session stored). The trigger below does that, under a
-- shared advisory lock that `gc_begin` waits for, so a completion that
-- re-uses a row either committed before T (and its environment is walked)
-- or touches the row after T (and the row is kept); a delete that meets a
-- row being touched re-reads `used_at` and skips it.

alter table pgshell.blobs add column used_at timestamptz not null default now();
alter table pgshell.blobs alter column used_at set default clock_timestamp();
alter table pgshell.tree_objects add column used_at timestamptz not null default now();
alter table pgshell.tree_objects alter column used_at set default clock_timestamp();
alter table pgshell.environments add column used_at timestamptz not null default now();
alter table pgshell.environments alter column used_at set default clock_timestamp();
comment on column pgshell.blobs.used_at is
    'Last time this blob was stored or re-used by an insert; the collector keeps what was used after its mark (0016).';

-- The advisory lock key stores hold shared and the collector's mark holds
-- exclusively: 'pgshellg' as a bigint.
create function pgshell.gc_lock_key() returns bigint
language sql immutable as $$ select 8099010339069323367::bigint $$;

create function pgshell.storage_touch() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pg_advisory_xact_lock_shared(pgshell.gc_lock_key());
    if tg_table_name = 'blobs' then
        update pgshell.blobs set used_at = clock_timestamp() where digest = new.digest;
    elsif tg_table_name = 'tree_objects' then
        update pgshell.tree_objects set used_at = clock_timestamp() where digest = new.digest;
    else
        update pgshell.environments set used_at = clock_timestamp() where digest = new.digest;
    end if;
    new.used_at := clock_timestamp();
    return new;
end $$;

create trigger blobs_touch before insert on pgshell.blobs
    for each row execute function pgshell.storage_touch();
create trigger tree_objects_touch before insert on pgshell.tree_objects
    for each row execute function pgshell.storage_touch();
create trigger environments_touch before insert on pgshell.environments
    for each row execute function pgshell.storage_touch();

-- Whether there is anything to collect: every statement deleting sessions
-- bumps `deleted`; a collection that finished records the value it started
-- from in `collected`.
create table pgshell.gc_state (
    one       boolean primary key default true check (one),
    deleted   bigint not null default 0,
    collected bigint not null default 0,
    last_run  timestamptz
);
insert into pgshell.gc_state default values;

create function pgshell.gc_sessions_deleted() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    update pgshell.gc_state set deleted = deleted + 1;
    return null;
end $$;
create trigger sessions_gc after delete on pgshell.sessions
    for each statement execute function pgshell.gc_sessions_deleted();

-- The mark: waits for every transaction holding the stores' shared lock.
create function pgshell.gc_begin() returns timestamptz
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    perform pg_advisory_xact_lock(pgshell.gc_lock_key());
    return clock_timestamp();
end $$;

create function pgshell.gc_environments(p_mark timestamptz, p_limit int) returns int
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare n int;
begin
    with doomed as (
        select e.digest from pgshell.environments e
        where e.used_at < p_mark
          and not exists (select 1 from pgshell.commands c where c.env_before = e.digest)
          and not exists (select 1 from pgshell.commands c where c.env_after = e.digest)
          and not exists (select 1 from pgshell.sessions s where s.head_env = e.digest)
        limit p_limit
        for update skip locked)
    delete from pgshell.environments e using doomed d
    where e.digest = d.digest and e.used_at < p_mark;
    get diagnostics n = row_count;
    return n;
end $$;

-- Deletes the given tree objects (p_kind 'tree_objects') or blobs
-- ('blobs') unless used since the mark; returns rows and bytes freed.
create function pgshell.gc_delete(p_kind text, p_digests bytea[], p_mark timestamptz,
                                  out n bigint, out bytes bigint)
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if p_kind = 'tree_objects' then
        with gone as (
            delete from pgshell.tree_objects where digest = any(p_digests) and used_at < p_mark
            returning length(data) as len)
        select count(*), coalesce(sum(len), 0) into n, bytes from gone;
    elsif p_kind = 'blobs' then
        with gone as (
            delete from pgshell.blobs where digest = any(p_digests) and used_at < p_mark
            returning size as len)
        select count(*), coalesce(sum(len), 0) into n, bytes from gone;
    else
        raise exception 'gc_delete: unknown kind %', p_kind;
    end if;
end $$;

-- Uploads whose claim no running command holds (an executor died or was
-- judged dead before completing).
create function pgshell.gc_stale_uploads(p_limit int) returns int
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare n int;
begin
    with doomed as (
        select u.ctid from pgshell.blob_uploads u
        where not exists (select 1 from pgshell.commands c
                          where c.status in ('queued', 'running') and c.claim_token = u.claim_token)
        limit p_limit)
    delete from pgshell.blob_uploads u using doomed d where u.ctid = d.ctid;
    get diagnostics n = row_count;
    return n;
end $$;

-- Ends a collection: audited when it removed anything; `p_complete` says
-- nothing was left over (otherwise the next pass goes on).
create function pgshell.gc_finish(p_started_at bigint, p_complete boolean, p_report jsonb) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    update pgshell.gc_state set last_run = now(),
        collected = case when p_complete then greatest(collected, p_started_at) else collected end;
    if (p_report ->> 'environments')::bigint > 0 or (p_report ->> 'tree_objects')::bigint > 0
       or (p_report ->> 'blobs')::bigint > 0 then
        perform pgshell.audit('storage.collected', null, null, p_report);
    end if;
end $$;

revoke all on function pgshell.gc_begin(), pgshell.gc_environments(timestamptz, int),
    pgshell.gc_delete(text, bytea[], timestamptz), pgshell.gc_stale_uploads(int),
    pgshell.gc_finish(bigint, boolean, jsonb) from public;
grant execute on function pgshell.gc_begin(), pgshell.gc_environments(timestamptz, int),
    pgshell.gc_delete(text, bytea[], timestamptz), pgshell.gc_stale_uploads(int),
    pgshell.gc_finish(bigint, boolean, jsonb) to pgshell_executor;
grant select on pgshell.gc_state to pgshell_executor;
